/* The column chooser of the table component (templates/_datatable.html): hides the columns a
   user unticks and remembers the choice in this browser, per user and table. Sorting and paging
   are links, so the table works without this script; it only adds the choice of columns. */
(function () {
  "use strict";
  if (window.agentladderDatatable) { return; }
  window.agentladderDatatable = true;

  function readChoice(key) {
    try {
      var stored = JSON.parse(window.localStorage.getItem(key) || "null");
      if (stored && Array.isArray(stored.shown) && Array.isArray(stored.hidden)) { return stored; }
    } catch (error) { /* a damaged entry counts as no choice */ }
    return null;
  }

  function writeChoice(key, choice) {
    try {
      if (choice) { window.localStorage.setItem(key, JSON.stringify(choice)); }
      else { window.localStorage.removeItem(key); }
    } catch (error) { /* storage full or disabled: the choice lasts until reload */ }
  }

  function visibleKeys(columns, choice) {
    // A column the user chose either way keeps that choice; a new one shows its default.
    var visible = {};
    columns.forEach(function (column) {
      var shown = column.shown;
      if (choice && choice.shown.indexOf(column.key) >= 0) { shown = true; }
      if (choice && choice.hidden.indexOf(column.key) >= 0) { shown = false; }
      visible[column.key] = column.fixed || shown;
    });
    return visible;
  }

  function apply(table, columns, visible) {
    table.querySelectorAll("th[data-col]").forEach(function (th) {
      th.hidden = !visible[th.getAttribute("data-col")];
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      if (row.cells.length !== columns.length) { return; }  // a message row spanning all
      columns.forEach(function (column, index) { row.cells[index].hidden = !visible[column.key]; });
    });
    table.querySelectorAll("th[data-group]").forEach(function (th) {
      var group = th.getAttribute("data-group");
      var count = columns.filter(function (c) { return c.group === group && visible[c.key]; }).length;
      th.hidden = count === 0;
      if (count) { th.colSpan = count; }
    });
    var span = columns.filter(function (c) { return visible[c.key]; }).length;
    table.querySelectorAll("tbody td[colspan]").forEach(function (td) { td.colSpan = span; });
  }

  function setup(table) {
    var columns = JSON.parse(table.getAttribute("data-columns") || "[]");
    var key = table.getAttribute("data-storage-key");
    var chooser = document.querySelector('details.column-chooser[data-table="' + table.id + '"]');
    var visible = visibleKeys(columns, readChoice(key));
    apply(table, columns, visible);
    if (!chooser) { return; }
    var boxes = chooser.querySelectorAll("input[type=checkbox]");
    function sync() { boxes.forEach(function (box) { box.checked = !!visible[box.value]; }); }
    function save() {
      var choice = { shown: [], hidden: [] };
      columns.forEach(function (c) {
        if (!c.fixed) { (visible[c.key] ? choice.shown : choice.hidden).push(c.key); }
      });
      writeChoice(key, choice);
      apply(table, columns, visible);
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", function () { visible[box.value] = box.checked; save(); });
    });
    chooser.querySelectorAll("button[data-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (button.getAttribute("data-action") === "all") {
          columns.forEach(function (c) { visible[c.key] = true; });
          save();
        } else {
          writeChoice(key, null);
          visible = visibleKeys(columns, null);
          apply(table, columns, visible);
        }
        sync();
      });
    });
    sync();
    chooser.hidden = false;
  }

  function start() { document.querySelectorAll("table.datatable[data-columns]").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
