// Address suggestions for compose's To, Cc and Bcc (templates/mail/compose/_addresses.html).
// Each field becomes an ARIA 1.2 combobox: as the person types the address after the last
// comma (two characters or more, after a short pause), the listbox fragment of mail:suggestions
// shows under the field. Down / Up move through it (aria-activedescendant; the focus stays in
// the field), Enter or Tab takes the highlighted one (Enter the first if none is: it never
// sends the message while the list is open), a click takes one, Escape closes. Taking
// one replaces what was typed after the last comma with `Name <address>, `. Without this
// script the fields are plain text.
(function () {
  "use strict";
  var DELAY_MS = 150;
  var MIN_CHARS = 2;
  var box = document.querySelector(".compose-addresses[data-suggest-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-suggest-url");

  function typedPart(value) {
    var comma = value.lastIndexOf(",");
    return { before: value.slice(0, comma + 1), term: value.slice(comma + 1).trim() };
  }

  function setUp(input, field) {
    var popup = document.createElement("div");
    popup.className = "suggest-popup";
    popup.hidden = true;
    input.insertAdjacentElement("afterend", popup);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");
    var timer = 0;
    var asked = 0; // the number of the latest request: older answers are dropped
    var active = -1;

    function options() { return Array.prototype.slice.call(popup.querySelectorAll("[role=option]")); }

    function close() {
      popup.hidden = true;
      popup.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      input.removeAttribute("aria-controls");
    }

    function highlight(index) {
      var all = options();
      active = index;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("active", i === index);
      });
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(option) {
      var part = typedPart(input.value);
      var before = part.before ? part.before.replace(/\s*$/, "") + " " : "";
      input.value = before + option.getAttribute("data-value") + ", ";
      input.dispatchEvent(new Event("input", { bubbles: true })); // drafts notice the change
      close();
      input.focus();
      var end = input.value.length;
      input.setSelectionRange(end, end);
    }

    function ask() {
      var term = typedPart(input.value).term;
      if (term.length < MIN_CHARS) { close(); return; }
      var number = ++asked;
      var query = new URLSearchParams({ q: term, field: field });
      fetch(url + "?" + query.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (number !== asked || document.activeElement !== input) { return; }
          var parsed = new DOMParser().parseFromString(html, "text/html");
          var list = parsed.querySelector("[role=listbox]");
          if (!list || !list.querySelector("[role=option]")) { close(); return; }
          popup.textContent = "";
          popup.appendChild(document.adoptNode(list));
          popup.hidden = false;
          active = -1;
          input.setAttribute("aria-controls", list.id);
          input.setAttribute("aria-expanded", "true");
        })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function (event) {
      if (!event.isTrusted) { return; } // our own event after a pick
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var all = options();
      var open = !popup.hidden && all.length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!open) { ask(); return; }
        if (event.key === "ArrowDown") {
          highlight(active + 1 >= all.length ? 0 : active + 1);
        } else {
          highlight(active <= 0 ? all.length - 1 : active - 1);
        }
      } else if (event.key === "Enter" && open) {
        event.preventDefault(); // never sends the message half-addressed
        pick(all[Math.max(active, 0)]);
      } else if (event.key === "Tab" && open && active >= 0) {
        event.preventDefault();
        pick(all[active]);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });

    input.addEventListener("blur", function () {
      window.clearTimeout(timer);
      window.setTimeout(close, 100); // after a click on an option has been taken
    });

    popup.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the focus in the field
      var option = event.target.closest("[role=option]");
      if (option) { pick(option); }
    });
  }

  ["to", "cc", "bcc"].forEach(function (field) {
    var input = document.getElementById("id_" + field);
    if (input) { setUp(input, field); }
  });
})();
