// The mail screen's htmx behaviour (templates/mail/layout.html, after htmx): message lists'
// "Select all on this page", the sidebar folded away on a phone, and the reading pane.
// Listeners sit on the document, so rows that polling prepends or htmx swaps in need nothing
// more. Without this file every checkbox still works alone and every row opens its own page.
//
// The reading pane: on a wide screen (the 3-column layout of mail.css) a plain click on a row
// (or Enter/o, static/mail-keys.js, which clicks it) fetches the message's pane partial into
// #mail-pane beside the list and pushes the message's URL; the row becomes the current one and
// turns read, and focus moves to the message's heading so a screen reader announces it. A
// phone, a modified click (new tab) or a failed request get the link's own page.
//
// History: htmx keeps no snapshots (they would hold mail in sessionStorage, beyond sign-out,
// with frame URLs that expire); going back or forward to a pushed URL loads that page afresh.
(function () {
  "use strict";
  var PHONE = window.matchMedia("(max-width: 48rem)");

  if (window.htmx) {
    window.htmx.config.historyCacheSize = 0;
    window.htmx.config.refreshOnHistoryMiss = true;
  }

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

  // The reading pane ------------------------------------------------------------------------

  function isPaneOpen(event) {
    // (htmx fires afterSwap on the target, so detail.elt is not the source.)
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    return !!(source && source.matches && source.matches("#rows a.row-link") &&
      event.detail.target && event.detail.target.id === "mail-pane");
  }

  function markCurrent(row) {
    document.querySelectorAll("#rows > li.row[aria-current]").forEach(function (old) {
      if (old !== row) old.removeAttribute("aria-current");
    });
    row.setAttribute("aria-current", "true");
  }

  var listUrl = null; // the list's URL while a pushed message URL stands in for it

  function openInPane(link) {
    var row = link.closest("li.row");
    if (row) markCurrent(row);
    if (!listUrl) listUrl = location.href;
    link.setAttribute("hx-push-url", "true"); // read by htmx from the request's source
    window.htmx.ajax("GET", link.getAttribute("href"), {
      source: link, target: "#mail-pane", swap: "innerHTML",
    });
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey || PHONE.matches || !window.htmx) return;
    var link = event.target.closest && event.target.closest("#rows a.row-link");
    if (!link || !document.getElementById("mail-pane")) return;
    event.preventDefault();
    openInPane(link);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!isPaneOpen(event)) return;
    var pane = event.detail.target;
    pane.closest(".mail-layout").classList.add("has-pane");
    pane.scrollTop = 0;
    var heading = pane.querySelector("h1");
    if (heading) heading.focus({ preventScroll: true });
  });

  // Not found, a server error or no network: the row's own page says what went wrong.
  function fallBack(event) {
    if (isPaneOpen(event)) location.assign(event.detail.requestConfig.elt.href);
  }
  document.addEventListener("htmx:responseError", fallBack);
  document.addEventListener("htmx:sendError", fallBack);

  // mailbox/views/message.py says "mail-read" (an HX-Trigger, fired on the row's link) when the
  // message was unread; the sidebar refreshes its counts on the same event.
  document.addEventListener("mail-read", function (event) {
    var row = event.target.closest && event.target.closest("#rows > li.row");
    if (!row) return;
    row.classList.remove("unread");
    // "Unread: ", the sender's only hidden words (templates/mail/list.html).
    row.querySelectorAll(".sender > .visually-hidden").forEach(function (label) { label.remove(); });
  });

  // An action that takes the open message out of this list (archive, delete, spam, move) closes
  // the pane too, and the address goes back to the list's: it would go on showing mail that is
  // no longer here. (Read, unread and star leave it in the list, and the pane open.)
  function shownIds() {
    var ids = {};
    document.querySelectorAll('#rows input[name="location"]').forEach(function (box) {
      box.value.split(",").forEach(function (id) { ids[id] = true; });
    });
    return ids;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail.requestConfig;
    if (!config || String(config.verb).toLowerCase() !== "post") return;
    var pane = document.getElementById("mail-pane");
    var open = pane && pane.querySelector("[data-selection]");
    if (!open) return;
    var shown = shownIds();
    var ids = open.getAttribute("data-selection").split(",");
    if (ids.some(function (id) { return shown[id]; })) return;
    pane.innerHTML = "";
    pane.closest(".mail-layout").classList.remove("has-pane");
    if (listUrl) history.replaceState(history.state, "", listUrl);
    listUrl = null;
  });

  document.addEventListener("DOMContentLoaded", function () {
    showSelectAll();
    foldSidebar();
  });
  document.addEventListener("htmx:afterSettle", showSelectAll);
  PHONE.addEventListener("change", foldSidebar);
})();
