// Keyboard shortcuts for the mail screen (templates/mail/layout.html; the help that lists them
// is templates/mail/_shortcuts.html, opened with "?").
//   j / k      next / previous row of the list: the current row has aria-current, its link focus
//   o, Enter   open the current row: on a wide screen into the pane beside the list (static/
//              mail-select.js handles the row link's click), which takes focus; else its own page
//   u          back to the list: beside a list (and Esc in the pane), focus returns to the current
//              row; on a message page of its own, the list this tab came from (or the inbox)
//   e archive, # delete, s star / unstar, Shift+U mark unread: the ticked rows if any, else the
//              current row; on a message or conversation page, what it shows
//   r a f      reply, reply all, forward: the open message (its article's data-selection)
//   c          compose a new message
//   /          the search box               g then i   the inbox
// Nothing fires while typing in a field, or with Ctrl, Alt or Meta held (AltGr, which some
// keyboards need for # or ?, is let through), nor while the help is open (but ? and Esc).
// Listeners sit on the document and rows are looked up on every key, so rows that polling
// prepends or htmx swaps in need nothing more. Actions post to mail:actions like the toolbar:
// on a list htmx swaps the list (the current row and focus come back afterwards); elsewhere a
// form is posted. Keys pressed inside the message frame stay there (its origin is opaque).
(function () {
  "use strict";
  var LIST_KEY = "mail-keys:list"; // sessionStorage: the last list this tab showed
  var NOT_TEXT = /^(checkbox|radio|button|submit|reset|range|color|file|image)$/;
  var hooks = document.getElementById("mail-keys");
  var gPressed = 0; // when "g" was pressed, waiting for "i"
  var lastRow = null; // {id, index} of the current row, to find it again after a swap
  var refocus = false; // a key action swapped the list: give the current row focus back
  var before = null; // what had focus before htmx swapped the list
  var statusTimer = 0;

  function url(name) { return hooks ? hooks.getAttribute("data-" + name + "-url") : "/"; }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#rows > li.row")); }

  function currentRow() {
    var active = document.activeElement;
    return (active && active.closest && active.closest("#rows > li.row")) ||
      document.querySelector("#rows > li.row[aria-current]");
  }

  function setCurrent(row, focus) {
    document.querySelectorAll("#rows > li.row[aria-current]").forEach(function (old) {
      if (old !== row) old.removeAttribute("aria-current");
    });
    row.setAttribute("aria-current", "true");
    lastRow = { id: row.getAttribute("data-location"), index: rows().indexOf(row) };
    var link = row.querySelector("a.row-link");
    if (focus && link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.indexOf(currentRow());
    setCurrent(all[at < 0 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1)], true);
  }

  function open(event) {
    // Enter on a link or button does what it always does (a focused row link opens itself).
    if (event.key === "Enter" && event.target.closest("a[href], button, summary, iframe")) return false;
    var row = currentRow();
    var link = row && row.querySelector("a.row-link");
    if (link) link.click();
  }

  function say(text) {
    var status = document.getElementById("keys-status");
    if (!status) return;
    status.textContent = text;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(function () { status.textContent = ""; }, 5000);
  }

  function listUrl() {
    try { return sessionStorage.getItem(LIST_KEY) || url("inbox"); } catch (e) { return url("inbox"); }
  }

  function backToList() {
    if (!document.getElementById("rows")) return location.assign(listUrl());
    var row = document.querySelector("#rows > li.row[aria-current]") || rows()[0];
    if (row) setCurrent(row, true);
  }

  // Esc in the pane beside a list: back to the list's current row, the message left open.
  function escapePane(event) {
    var pane = document.getElementById("mail-pane");
    if (!document.getElementById("rows") || !pane || !pane.contains(event.target)) return false;
    backToList();
  }

  function search() {
    var box = document.querySelector('#mail-list input[name="q"]');
    if (!box) return location.assign(url("search"));
    box.focus();
    box.select();
  }

  function token() {
    var field = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return field ? field.value : "";
  }

  function post(fields) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url("actions");
    form.hidden = true;
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  // What a key acts on: the ticked rows, else the current row; or the message page's article.
  function chosen() {
    var ticked = document.querySelectorAll('#rows input[name="location"]:checked');
    var picked = Array.prototype.map.call(ticked, function (box) { return box.closest("li.row"); });
    if (!picked.length && currentRow()) picked = [currentRow()];
    if (picked.length) {
      return {
        list: true,
        ids: picked.map(function (row) { return row.querySelector('input[name="location"]').value; }),
        starred: picked.every(function (row) { return row.querySelector(".mark.star"); }),
      };
    }
    var page = document.querySelector("article[data-selection]");
    if (!page || document.getElementById("rows")) return null;
    return { list: false, ids: [page.getAttribute("data-selection")], starred: !!page.getAttribute("data-flagged") };
  }

  function act(action) {
    var target = chosen();
    if (!target) return say("Move to a message first (j or k).");
    if (action === "star" && target.starred) action = "unstar";
    var fields = { csrfmiddlewaretoken: token(), action: action, location: target.ids.join(",") };
    if (target.list && window.htmx) {
      var next = document.querySelector('#bulk input[name="next"]');
      fields.next = next ? next.value : url("inbox");
      refocus = !!currentRow();
      return window.htmx.ajax("POST", url("actions"), {
        source: "#mail-list", target: "#mail-list", swap: "innerHTML", values: fields,
      });
    }
    // A star keeps the page; otherwise the message has left (or is unread again): the list.
    fields.next = action === "star" || action === "unstar" ? location.pathname + location.search : listUrl();
    post(fields);
  }

  // Reply, reply all or forward the message open on this page (beside a list or on its own).
  function answer(kind) {
    var page = document.querySelector("article[data-selection]");
    if (!page) return say("Open a message first.");
    location.assign(url("compose") + "?" + kind + "=" + encodeURIComponent(page.getAttribute("data-selection")));
  }

  function help() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  var KEYS = {
    j: function () { move(1); },
    k: function () { move(-1); },
    o: open,
    Enter: open,
    u: backToList,
    Escape: escapePane,
    e: function () { act("archive"); },
    "#": function () { act("delete"); },
    s: function () { act("star"); },
    U: function () { act("unread"); },
    r: function () { answer("reply"); },
    a: function () { answer("reply_all"); },
    f: function () { answer("forward"); },
    c: function () { location.assign(url("compose")); },
    "/": search,
    g: function () { gPressed = Date.now(); },
    "?": help,
  };

  function isTyping(element) {
    if (!element || !element.tagName) return false;
    var tag = element.tagName;
    return element.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && !NOT_TEXT.test(element.type));
  }

  document.addEventListener("keydown", function (event) {
    var altGraph = event.getModifierState && event.getModifierState("AltGraph");
    // (Chromium's autofill sends keydowns without a key.)
    if (typeof event.key !== "string" || event.defaultPrevented || event.isComposing || event.metaKey) return;
    if ((event.ctrlKey || event.altKey) && !altGraph) return;
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) {
      if (event.key === "?") { dialog.close(); event.preventDefault(); }
      return; // Esc closes it by itself
    }
    if (isTyping(event.target)) return;
    var key = event.key.length === 1 && !event.shiftKey ? event.key.toLowerCase() : event.key;
    var afterG = gPressed && Date.now() - gPressed < 1500;
    gPressed = 0;
    var run = afterG && key === "i" ? function () { location.assign(url("inbox")); } : KEYS[key];
    if (!run) return;
    // Holding j or k keeps moving; holding # must not delete one message after another.
    if (event.repeat && key !== "j" && key !== "k") return event.preventDefault();
    if (run(event) !== false) event.preventDefault();
  });

  // Tabbing or clicking into a row makes it the current one.
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("#rows > li.row");
    if (row) setCurrent(row, false);
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-open]")) help();
  });

  // htmx replaces the whole list after an action (and on a flood of new mail): afterwards the
  // current row is marked again (the next one if it left) and focus goes back where it was.
  function isList(event) { return event.detail.target && event.detail.target.id === "mail-list"; }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!isList(event)) return;
    var active = document.activeElement;
    before = null;
    if (active && active !== document.body && event.detail.target.contains(active)) {
      before = active.closest("#rows > li.row") ? "row"
        : active.name === "action" ? 'button[name="action"][value="' + active.value + '"]'
        : active.name === "q" ? 'input[name="q"]' : null;
    }
  });

  // afterSwap, not afterSettle: a key pressed in between must find the current row.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!isList(event)) return;
    var lost = !document.activeElement || document.activeElement === document.body;
    var all = rows();
    var row = lastRow && (document.querySelector('#rows > li.row[data-location="' + lastRow.id + '"]') ||
      all[Math.min(lastRow.index, all.length - 1)]);
    if (row && !document.querySelector("#rows > li.row[aria-current]")) {
      setCurrent(row, lost && (refocus || before === "row"));
    } else if (lost && before && before !== "row") {
      var again = document.querySelector("#mail-list " + before);
      if (again) again.focus();
    }
    refocus = false;
    before = null;
  });

  // The help button is only any use with this script.
  document.querySelectorAll(".keys-hint[hidden]").forEach(function (hint) { hint.hidden = false; });
  // A list page: "u" on a message page comes back here.
  if (document.getElementById("list-title")) {
    try { sessionStorage.setItem(LIST_KEY, location.pathname + location.search); } catch (e) { /* private mode */ }
  }
})();
