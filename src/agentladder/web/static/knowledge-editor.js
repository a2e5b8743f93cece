// The knowledge editor: shows the case fields or the body by type, renders a preview through
// the server (the same Markdown and sanitizer as the item page), and lists likely duplicates
// as the author writes (a pause of a second after typing).
(function () {
  "use strict";
  var form = document.getElementById("kb-editor");
  if (!form) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  var typeSelect = document.getElementById("kb-type");
  var caseFields = form.querySelector(".kb-case-fields");
  var bodyField = form.querySelector(".kb-body-field");
  var duplicates = document.getElementById("kb-duplicates");
  var preview = document.getElementById("kb-preview");
  var timer = null;

  function field(name) { return form.querySelector("[name=" + name + "]").value; }

  function text() {
    return ["situation", "solution", "result", "body"].map(field).filter(Boolean).join("\n\n");
  }

  function showFields() {
    var isCase = typeSelect.value === "case";
    caseFields.hidden = !isCase;
    bodyField.hidden = isCase && !field("body");
  }

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
      body: JSON.stringify(payload)
    });
  }

  function listDuplicates(found) {
    var list = duplicates.querySelector("ul");
    list.textContent = "";
    if (!found.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = duplicates.dataset.empty;
      list.appendChild(empty);
      return;
    }
    found.forEach(function (hit) {
      var row = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/knowledge/items/" + hit.id;
      link.textContent = hit.title;
      var share = document.createElement("span");
      share.className = "small muted";
      share.textContent = " " + Math.round(hit.similarity * 100) + "% " + duplicates.dataset.alike;
      row.appendChild(link);
      row.appendChild(share);
      list.appendChild(row);
    });
  }

  function checkDuplicates() {
    var itemId = form.dataset.itemId ? Number(form.dataset.itemId) : null;
    post("/knowledge/duplicates", {title: field("title"), text: text(), item_id: itemId})
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(listDuplicates)
      .catch(function () { /* hints only: the reviewer sees duplicates again */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(checkDuplicates, 1000);
  });
  typeSelect.addEventListener("change", showFields);
  document.getElementById("kb-preview-button").addEventListener("click", function () {
    post("/knowledge/preview", {text: text()})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        // The server sanitized it with the item page's allowlist.
        preview.querySelector(".kb-markdown").innerHTML = html;
        preview.hidden = false;
      });
  });
  showFields();
}());
