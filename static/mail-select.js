// Message lists (templates/mail/list.html): "Select all on this page", and the sidebar
// folded away on a phone. Listeners sit on the document, so rows that polling prepends or
// htmx swaps in need nothing more. Without this file every checkbox still works alone.
(function () {
  "use strict";
  var PHONE = window.matchMedia("(max-width: 48rem)");

  function rowBoxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="location"]'));
  }

  function showSelectAll() {
    document.querySelectorAll(".select-all[hidden]").forEach(function (element) {
      element.hidden = false;
    });
  }

  function foldSidebar() {
    document.querySelectorAll("details.sidebar-fold").forEach(function (details) {
      details.open = !PHONE.matches;
    });
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.form) return;
    if (box.hasAttribute("data-select-all")) {
      rowBoxes(box.form).forEach(function (row) { row.checked = box.checked; });
    } else if (box.name === "location") {
      var all = box.form.querySelector("[data-select-all]");
      if (!all) return;
      var boxes = rowBoxes(box.form);
      var checked = boxes.filter(function (row) { return row.checked; }).length;
      all.checked = checked > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    showSelectAll();
    foldSidebar();
  });
  document.addEventListener("htmx:afterSettle", showSelectAll);
  PHONE.addEventListener("change", foldSidebar);
})();
