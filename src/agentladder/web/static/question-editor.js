// The question editor's rows: add one (a copy of the last, emptied) and remove one. Without
// scripts the form still offers spare rows, and empty rows are left out when it is saved.
(function () {
  "use strict";

  function emptied(row) {
    var copy = row.cloneNode(true);
    copy.querySelectorAll("input, textarea").forEach(function (field) {
      if (field.type === "hidden") {
        field.value = "";
      } else if (field.classList.contains("percent")) {
        field.value = field.name === "number_percent" ? "100" : "0";
      } else if (field.name === "number_tolerance") {
        field.value = "0";
      } else {
        field.value = "";
      }
      field.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".field-error").forEach(function (note) { note.remove(); });
    return copy;
  }

  function renumber(body) {
    body.querySelectorAll("tr").forEach(function (row, index) {
      var cell = row.querySelector("td.num");
      if (cell) { cell.textContent = String(index + 1); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-add-row], [data-remove-row]").forEach(function (button) {
      button.hidden = false;
    });
    document.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      if (add) {
        var body = document.querySelector("#" + add.dataset.addRow + " tbody");
        var last = body.querySelector("tr:last-child");
        if (last) {
          var row = emptied(last);
          body.appendChild(row);
          renumber(body);
          var first = row.querySelector("input:not([type=hidden]), textarea");
          if (first) { first.focus(); }
        }
        return;
      }
      var remove = event.target.closest("[data-remove-row]");
      if (remove) {
        var tr = remove.closest("tr");
        var tbody = tr.parentNode;
        if (tbody.querySelectorAll("tr").length > 1) {
          tr.remove();
        } else {
          tbody.replaceChild(emptied(tr), tr);
        }
        renumber(tbody);
      }
    });
  });
}());
