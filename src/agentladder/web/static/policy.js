// The policy editor: validate as the manager types, show the diff against the policy in
// force, and send the edited text with the backtest form.
(function () {
  "use strict";
  var text = document.getElementById("policy-text");
  var status = document.getElementById("policy-status");
  var diff = document.getElementById("policy-diff");
  var diffBox = document.getElementById("policy-diff-box");
  var apply = document.getElementById("apply-policy");
  var backtestForm = document.getElementById("backtest-form");
  var token = document.querySelector("#policy-form input[name=csrf_token]").value;
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
      list.id = "policy-problems";
      result.problems.forEach(function (problem) {
        var item = document.createElement("li");
        var key = document.createElement("code");
        key.textContent = problem.key;
        item.appendChild(key);
        item.appendChild(document.createTextNode(": " + problem.message));
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
    fetch("/api/ladder/policy/validate", {
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
  backtestForm.addEventListener("submit", function () {
    document.getElementById("backtest-text").value = text.value;
  });
  validate();
})();
