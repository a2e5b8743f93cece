// The import job page: ask the server for the job's step every second and mark it in the list;
// when the job has finished, load the page again, which then shows the ledger entry (or the
// problem). Without script the page reloads itself (meta refresh) to the same effect.
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  var steps = Array.prototype.slice.call(document.querySelectorAll("#job-steps li"));
  var order = steps.map(function (item) { return item.dataset.step; });
  var refresh = document.querySelector("meta[http-equiv=refresh]");
  if (refresh) {
    refresh.parentNode.removeChild(refresh); // the script follows the job now
  }

  function mark(step) {
    var reached = order.indexOf(step);
    steps.forEach(function (item, index) {
      item.className = index < reached ? "done" : index === reached ? "current" : "";
    });
  }

  function poll() {
    fetch(box.dataset.jobUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (job) {
        mark(job.step);
        if (job.finished) {
          window.location.assign(box.dataset.pageUrl);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }

  window.setTimeout(poll, 500);
})();
