// The exam attempt page. Every answer goes to the server as soon as it is given (typed text
// after a pause), numbered per question so that a late or repeated save never overwrites a
// newer one; the last number per question is kept in localStorage, so a reload continues the
// numbering. Saves that fail (offline, server restarting) wait and are retried with backoff
// until the server acknowledges them. The countdown starts from the server's figure, follows
// every save receipt, and submits at zero; the server stays the judge of the deadline.
// Without this script the page is a plain form: "Save answers" and "Submit" post it.
(function () {
  "use strict";

  var TEXT_PAUSE_MS = 600;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MOST_MS = 30000;
  var TIME_UP_WAIT_MS = 4000; // at zero, how long queued saves may take before submitting

  var form;
  var api;
  var token;
  var storeKey;
  var seqs = {}; // slot -> last number used
  var pending = {}; // slot -> {slot, response, seq} not yet acknowledged
  var inflight = {}; // slot -> the save on the wire
  var lastQueued = {}; // slot -> JSON of the response last queued (or shown at load)
  var textTimers = {};
  var refused = {}; // slot -> the server's reason for refusing the last save
  var failures = 0;
  var retryTimer = null;
  var deadline = null; // performance.now() at which the time runs out
  var clock = null;
  var submitting = false;
  var finished = false;
  var current = 0; // one question per page: the index shown

  function text(name) {
    return form.getAttribute("data-text-" + name) || "";
  }

  function sections() {
    return Array.prototype.slice.call(form.querySelectorAll(".exam-question"));
  }

  function section(slot) {
    return document.getElementById("q" + slot);
  }

  function each(list, action) {
    Array.prototype.forEach.call(list, action);
  }

  // --- the numbering, kept across reloads ----------------------------------------------------

  function loadSeqs() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(storeKey) || "{}");
      return stored && typeof stored === "object" ? stored : {};
    } catch (error) {
      return {};
    }
  }

  function storeSeqs() {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify(seqs));
    } catch (error) {
      // Private mode or full storage: the server's numbers seed the next page load instead.
    }
  }

  // --- reading answers (positions as shown: the server maps them back) -----------------------

  function responseOf(sec) {
    var slot = sec.getAttribute("data-slot");
    var name = "q" + slot;
    var chosen;
    switch (sec.getAttribute("data-type")) {
      case "single_choice":
        chosen = sec.querySelector('input[name="' + name + '"]:checked');
        return chosen ? Number(chosen.value) : null;
      case "multiple_choice":
        return Array.prototype.map
          .call(sec.querySelectorAll('input[name="' + name + '"]:checked'), function (box) {
            return Number(box.value);
          })
          .sort(function (a, b) {
            return a - b;
          });
      case "true_false":
        chosen = sec.querySelector('input[name="' + name + '"]:checked');
        return chosen ? chosen.value === "true" : null;
      case "short_answer":
      case "numerical":
      case "essay":
        return sec.querySelector('[name="' + name + '"]').value;
      case "matching":
        var matched = {};
        each(sec.querySelectorAll("select[data-prompt]"), function (select) {
          matched[select.getAttribute("data-prompt")] =
            select.value === "" ? null : Number(select.value);
        });
        return matched;
      case "ordering":
        return Array.prototype.map.call(sec.querySelectorAll("ol.ordering > li"), function (li) {
          return Number(li.getAttribute("data-position"));
        });
    }
    return null;
  }

  function isAnswered(sec) {
    var type = sec.getAttribute("data-type");
    if (type === "ordering") return sec.hasAttribute("data-answered");
    var response = responseOf(sec);
    if (response === null) return false;
    if (typeof response === "string") {
      if (type === "essay") {
        var template = sec.querySelector("textarea").getAttribute("data-template");
        if (template !== null && response === template && !sec.hasAttribute("data-answered")) {
          return false;
        }
      }
      return response.trim() !== "";
    }
    if (Array.isArray(response)) return response.length > 0;
    if (typeof response === "object") {
      return Object.keys(response).some(function (key) {
        return response[key] !== null;
      });
    }
    return true;
  }

  // --- what the page says about saving --------------------------------------------------------

  function setState(slot, state, reason) {
    var sec = section(slot);
    var label = document.getElementById("q" + slot + "-state");
    var link = form.querySelector('#exam-nav a[data-slot="' + slot + '"]');
    if (label) {
      label.className = "save-state " + state;
      label.textContent =
        state === "refused" ? text("refused").replace("{reason}", reason || "") : text(state);
    }
    if (link) {
      link.classList.remove("saving", "offline", "refused");
      if (state !== "saved") link.classList.add(state);
    }
    if (sec && state === "saved") sec.setAttribute("data-saved", "");
    else if (sec) sec.removeAttribute("data-saved");
    summarize();
  }

  function summarize() {
    var summary = document.getElementById("save-summary");
    if (!summary) return;
    var waiting = Object.keys(pending);
    var offline = form.querySelector("#exam-nav a.offline");
    var refusedAny = Object.keys(refused).length > 0;
    summary.className = "save-summary" + (offline || refusedAny ? " offline" : "");
    if (submitting && waiting.length) summary.textContent = text("waiting");
    else if (submitting) summary.textContent = text("submitting");
    else if (offline) summary.textContent = text("offline");
    else if (waiting.length) summary.textContent = text("saving");
    else if (refusedAny) summary.textContent = text("some-refused");
    else summary.textContent = text("all-saved");
  }

  function markNavigator(sec) {
    var link = form.querySelector('#exam-nav a[data-slot="' + sec.getAttribute("data-slot") + '"]');
    if (!link || sec.getAttribute("data-type") === "description") return;
    var answered = isAnswered(sec);
    link.classList.toggle("answered", answered);
    link.classList.toggle("unanswered", !answered);
  }

  // --- saving ---------------------------------------------------------------------------------

  function queue(sec) {
    var slot = Number(sec.getAttribute("data-slot"));
    var response = responseOf(sec);
    var json = JSON.stringify(response);
    if (json === lastQueued[slot] && !refused[slot]) return;
    lastQueued[slot] = json;
    delete refused[slot];
    seqs[slot] = (seqs[slot] || 0) + 1;
    storeSeqs();
    pending[slot] = { slot: slot, response: response, seq: seqs[slot] };
    setState(slot, "saving");
    send(slot);
  }

  function send(slot) {
    if (finished || inflight[slot] || !pending[slot]) return;
    var item = pending[slot];
    var sentAt = window.performance.now();
    inflight[slot] = item;
    fetch(api + "/answers", {
      method: "PUT",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": token,
      },
      body: JSON.stringify(item),
    }).then(
      function (response) {
        if (response.ok) {
          return response.json().then(function (receipt) {
            acknowledged(slot, item, receipt, sentAt);
          });
        }
        if (response.status === 409) return over();
        if (response.status === 422 || response.status === 404) {
          return response.json().then(
            function (body) {
              refusedSave(slot, item, body);
            },
            function () {
              refusedSave(slot, item, {});
            }
          );
        }
        // A server error or a proxy's answer while the server restarts: try again later.
        lost(slot);
      },
      function () {
        lost(slot);
      }
    );
  }

  function acknowledged(slot, item, receipt, sentAt) {
    inflight[slot] = null;
    failures = 0;
    if (pending[slot] === item) delete pending[slot];
    if (receipt && typeof receipt.seconds_left === "number") {
      // The server counted while the request was on the wire: take the middle of the trip.
      follow(receipt.seconds_left, (sentAt + window.performance.now()) / 2);
    }
    setState(slot, pending[slot] ? "saving" : "saved");
    sendAll(); // the server answers again: whatever waited goes now
  }

  function refusedSave(slot, item, body) {
    inflight[slot] = null;
    var reason = typeof body.detail === "string" ? body.detail : "";
    if (pending[slot] === item) {
      delete pending[slot];
      refused[slot] = reason;
      setState(slot, "refused", reason);
    } else {
      send(slot);
    }
  }

  function lost(slot) {
    inflight[slot] = null;
    setState(slot, "offline");
    retryLater();
  }

  function retryLater() {
    if (retryTimer !== null || finished) return;
    var delay = Math.min(RETRY_MOST_MS, RETRY_FIRST_MS * Math.pow(2, failures));
    failures += 1;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      sendAll();
    }, delay);
  }

  function sendAll() {
    Object.keys(pending).forEach(function (slot) {
      send(Number(slot));
    });
  }

  function flushTyping() {
    Object.keys(textTimers).forEach(function (slot) {
      window.clearTimeout(textTimers[slot]);
      delete textTimers[slot];
      queue(section(slot));
    });
  }

  function over() {
    // The server has finished the attempt (its time ran out): the result says the rest.
    finished = true;
    window.location.assign(form.getAttribute("data-result-url"));
  }

  // --- the clock ------------------------------------------------------------------------------

  function follow(secondsLeft, countedAt) {
    if (clock === null) return;
    deadline = countedAt + secondsLeft * 1000;
    tick();
  }

  function shown(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    var two = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return hours ? hours + ":" + two(minutes) + ":" + two(rest) : minutes + ":" + two(rest);
  }

  function tick() {
    var left = Math.max(0, Math.ceil((deadline - window.performance.now()) / 1000));
    clock.textContent = shown(left);
    document.getElementById("exam-timer").classList.toggle("ending", left <= 60);
    if (left === 0 && !submitting) timeUp();
  }

  function startClock() {
    var seconds = form.getAttribute("data-seconds-left");
    clock = document.getElementById("time-left");
    if (seconds === "" || !clock) {
      clock = null;
      return;
    }
    // The page's figure was counted as its response left the server.
    var navigation = window.performance.getEntriesByType
      ? window.performance.getEntriesByType("navigation")[0]
      : null;
    var countedAt = navigation && navigation.responseStart ? navigation.responseStart : 0;
    deadline = countedAt + Number(seconds) * 1000;
    window.setInterval(tick, 500);
    tick();
  }

  function timeUp() {
    var summary = document.getElementById("save-summary");
    submitting = true;
    flushTyping();
    if (summary) summary.textContent = text("time-up");
    var started = window.performance.now();
    (function wait() {
      if (!Object.keys(pending).length || window.performance.now() - started > TIME_UP_WAIT_MS) {
        submit();
      } else {
        window.setTimeout(wait, 100);
      }
    })();
  }

  // --- submitting -----------------------------------------------------------------------------

  function submit() {
    submitting = true;
    summarize();
    fetch(api + "/submit", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": token },
    }).then(
      function (response) {
        if (response.ok || response.status === 409) {
          finished = true;
          window.location.assign(form.getAttribute("data-result-url"));
        } else {
          submitLater();
        }
      },
      submitLater
    );
  }

  function submitLater() {
    var summary = document.getElementById("save-summary");
    if (summary) summary.textContent = text("offline");
    failures += 1;
    window.setTimeout(submit, Math.min(RETRY_MOST_MS, RETRY_FIRST_MS * Math.pow(2, failures)));
  }

  function submitWhenSaved() {
    // Every answer must be on the server first: a submitted attempt takes no more saves.
    submitting = true;
    document.getElementById("submit-attempt").disabled = true;
    flushTyping();
    sendAll();
    summarize();
    (function wait() {
      if (Object.keys(pending).length) window.setTimeout(wait, 200);
      else submit();
    })();
  }

  function confirmSubmit() {
    var dialog = document.getElementById("confirm-submit");
    var missing = sections()
      .filter(function (sec) {
        return sec.getAttribute("data-type") !== "description" && !isAnswered(sec);
      })
      .map(function (sec) {
        return sec.getAttribute("data-slot");
      });
    var list = document.getElementById("confirm-unanswered");
    list.textContent = missing.length
      ? list.getAttribute("data-template").replace("{numbers}", missing.join(", "))
      : "";
    list.hidden = !missing.length;
    document.getElementById("confirm-all").hidden = missing.length > 0;
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
      document.getElementById("confirm-cancel").focus();
    } else if (window.confirm(list.textContent || document.getElementById("confirm-title").textContent)) {
      submitWhenSaved();
    }
  }

  // --- one question per page ------------------------------------------------------------------

  function showPage(index, focus) {
    var all = sections();
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (sec, i) {
      sec.hidden = i !== current;
    });
    each(form.querySelectorAll("#exam-nav a"), function (link, i) {
      if (i === current) link.setAttribute("aria-current", "step");
      else link.removeAttribute("aria-current");
    });
    document.getElementById("previous-question").disabled = current === 0;
    document.getElementById("next-question").disabled = current === all.length - 1;
    document.getElementById("pager-position").textContent = text("page")
      .replace("{number}", String(current + 1))
      .replace("{total}", String(all.length));
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#" + all[current].id);
    }
    if (focus) all[current].querySelector("h2").focus();
  }

  function setUpPages() {
    var all = sections();
    if (form.getAttribute("data-layout") !== "one_per_page" || all.length < 2) return;
    document.getElementById("exam-pager").hidden = false;
    var start = all.findIndex(function (sec) {
      return "#" + sec.id === window.location.hash;
    });
    showPage(start < 0 ? 0 : start, false);
    document.getElementById("previous-question").addEventListener("click", function () {
      showPage(current - 1, true);
    });
    document.getElementById("next-question").addEventListener("click", function () {
      showPage(current + 1, true);
    });
    form.querySelector("#exam-nav").addEventListener("click", function (event) {
      var link = event.target.closest("a[data-slot]");
      if (!link) return;
      event.preventDefault();
      showPage(all.indexOf(section(link.getAttribute("data-slot"))), true);
    });
  }

  // --- ordering: up and down buttons ----------------------------------------------------------

  function move(button) {
    var item = button.closest("li");
    var list = item.parentNode;
    var sec = button.closest(".exam-question");
    if (button.classList.contains("move-up") && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.classList.contains("move-down") && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    } else {
      return;
    }
    button.focus(); // the moved item keeps the focus, so the keys can move it again
    var items = Array.prototype.slice.call(list.children);
    items.forEach(function (li, index) {
      li.querySelector('input[type="number"]').value = String(index + 1);
    });
    var said = document.getElementById(sec.id + "-moved");
    if (said) said.textContent = text("moved").replace("{place}", String(items.indexOf(item) + 1));
    sec.setAttribute("data-answered", "");
    markNavigator(sec);
    queue(sec);
  }

  // --- wiring ---------------------------------------------------------------------------------

  function answerChanged(event, typing) {
    var sec = event.target.closest && event.target.closest(".exam-question");
    if (!sec || finished || submitting) return;
    var slot = sec.getAttribute("data-slot");
    markNavigator(sec);
    if (typing) {
      window.clearTimeout(textTimers[slot]);
      textTimers[slot] = window.setTimeout(function () {
        delete textTimers[slot];
        queue(sec);
      }, TEXT_PAUSE_MS);
      return;
    }
    if (textTimers[slot]) {
      window.clearTimeout(textTimers[slot]);
      delete textTimers[slot];
    }
    queue(sec);
  }

  function setUp() {
    form = document.getElementById("attempt-form");
    if (!form) return;
    form.classList.add("js");
    api = "/api/exams/attempts/" + form.getAttribute("data-attempt");
    token = form.querySelector('input[name="csrf_token"]').value;
    storeKey = "agentladder.exam-attempt." + form.getAttribute("data-attempt") + ".seq";
    seqs = loadSeqs();
    sections().forEach(function (sec) {
      var slot = Number(sec.getAttribute("data-slot"));
      var server = Number(sec.getAttribute("data-seq")) || 0;
      if (!(seqs[slot] >= server)) seqs[slot] = server;
      lastQueued[slot] = JSON.stringify(responseOf(sec));
    });
    storeSeqs();
    each(form.querySelectorAll(".order-buttons"), function (buttons) {
      buttons.hidden = false;
    });

    form.addEventListener("input", function (event) {
      var typed = event.target.matches('input[type="text"], textarea');
      if (typed) answerChanged(event, true);
    });
    form.addEventListener("change", function (event) {
      if (event.target.matches('input[type="number"]')) return; // the ordering ranks (no script)
      answerChanged(event, false);
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button.move-up, button.move-down");
      if (button && !submitting) move(button);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (event.submitter && event.submitter.id === "submit-attempt" && !submitting) confirmSubmit();
    });
    var dialog = document.getElementById("confirm-submit");
    document.getElementById("confirm-cancel").addEventListener("click", function () {
      dialog.close();
    });
    document.getElementById("confirm-ok").addEventListener("click", function () {
      dialog.close();
      submitWhenSaved();
    });
    window.addEventListener("online", function () {
      failures = 0;
      sendAll();
    });
    window.addEventListener("beforeunload", function (event) {
      if (!finished && (Object.keys(pending).length || Object.keys(textTimers).length)) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    setUpPages();
    startClock();
    summarize();
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
