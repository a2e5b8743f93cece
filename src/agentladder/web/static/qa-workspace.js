// The QA workspace: the recording player's speed and skip buttons, the draft saved as the
// evaluator answers (a reload loses nothing; without this script the Save button does it), and
// a note on an item whose automatic QA suggestion the evaluator has changed.
(function () {
  "use strict";

  function setUpPlayer() {
    var player = document.getElementById("player");
    if (!player) return;
    var tools = document.getElementById("player-tools");
    tools.addEventListener("click", function (event) {
      var skip = event.target.getAttribute && event.target.getAttribute("data-skip");
      if (!skip) return;
      var target = player.currentTime + Number(skip);
      var end = isFinite(player.duration) ? player.duration : target;
      player.currentTime = Math.max(0, Math.min(end, target));
    });
    var speed = document.getElementById("player-speed");
    speed.addEventListener("change", function () {
      player.playbackRate = Number(speed.value);
    });
  }

  function setUpAutosave() {
    var form = document.getElementById("qa-form");
    if (!form) return;
    var url = form.getAttribute("data-autosave");
    var status = document.getElementById("autosave-status");
    var token = form.querySelector('input[name="csrf_token"]').value;
    var timer = null;
    var saving = false;
    var again = false;
    var leaving = false; // the form is being submitted: no more saves behind it

    function say(text) {
      if (status) status.textContent = text;
    }

    function save() {
      timer = null;
      if (leaving) return;
      if (saving) {
        again = true;
        return;
      }
      saving = true;
      fetch(url, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRF-Token": token },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function () {
          var when = new Date().toLocaleTimeString(document.documentElement.lang);
          say(form.getAttribute("data-saved-text").replace("{when}", when));
          form.setAttribute("data-saved", "1");
        })
        .catch(function (error) {
          say(form.getAttribute("data-failed-text").replace("{error}", error.message));
        })
        .then(function () {
          saving = false;
          if (again) {
            again = false;
            save();
          }
        });
    }

    function soon() {
      form.removeAttribute("data-saved");
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, 1500);
    }

    form.addEventListener("submit", function () {
      leaving = true;
      if (timer) clearTimeout(timer);
    });
    form.addEventListener("change", soon);
    form.addEventListener("input", soon);
    // Every few seconds as well, so a long comment is kept while it is typed.
    setInterval(function () {
      if (timer === null && !form.hasAttribute("data-saved") && !saving) save();
    }, 10000);
  }

  function setUpSuggestions() {
    var items = document.querySelectorAll("#qa-form .qa-item[data-suggested]");
    Array.prototype.forEach.call(items, function (item) {
      var note = item.querySelector(".tag.changed.live");
      if (!note) return;
      function show() {
        var checked = item.querySelector('input[type="radio"][name^="answer_"]:checked');
        note.hidden = !checked || checked.value === item.getAttribute("data-suggested");
      }
      item.addEventListener("change", show);
      show();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpPlayer();
    setUpAutosave();
    setUpSuggestions();
  });
})();
