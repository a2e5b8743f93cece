// The automatic QA rule editor: validate as the QA lead types and show the diff against the
// rule set in force; Apply is enabled only for a valid rule set that changes something.
(function () {
  "use strict";
  var text = document.getElementById("rules-text");
  var status = document.getElementById("rules-status");
  var diff = document.getElementById("rules-diff");
  var diffBox = document.getElementById("rules-diff-box");
  var apply = document.getElementById("apply-rules");
  var token = document.querySelector("#rules-form input[name=csrf_token]").value;
  var labels = status.dataset;
  var timer = null;
  var asked = 0;

  function show(result) {
    status.textContent = "";
    if (result.valid) {
      status.className = "ok";
      status.textContent = (result.unchanged ? labels.unchanged : labels.valid) + " " + result.hash.slice(0, 12);
    } else {
      status.className = "error";
      var list = document.createElement("ul");
      list.id = "rules-problems";
      result.problems.forEach(function (problem) {
        var item = document.createElement("li");
        if (problem.key) {
          var key = document.createElement("code");
          key.textContent = problem.key;
          item.appendChild(key);
          item.appendChild(document.createTextNode(": "));
        }
        item.appendChild(document.createTextNode(problem.message));
        list.appendChild(item);
      });
      status.appendChild(list);
    }
    apply.disabled = !result.valid || result.unchanged;
    diff.textContent = result.diff.join("\n");
    diffBox.open = result.diff.length > 0;
  }

  function validate() {
    var mine = ++asked;
    fetch("/api/quality/autoqa/rules/validate", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
      body: JSON.stringify({text: text.value}),
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (result) {
      if (result && mine === asked) { show(result); }
    });
  }

  text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(validate, 400);
  });
  validate();
})();
