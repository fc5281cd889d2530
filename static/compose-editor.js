// Rich text for the compose page (templates/mail/compose/_body.html), on Squire
// (static/vendor/squire-rte-*.min.js, Fastmail's editor for writing mail).
//
// Why Squire and not Trix, the usual choice: our policy is style-src 'self' with no inline
// style. Trix inserts <style> elements as it loads: in Chromium that is a CSP report for each
// and a toolbar whose link dialog never hides. A bare contenteditable with execCommand is no
// better: when Backspace joins two lines Chromium's editing code writes a <span style=...>
// for a moment, which the policy refuses (a report each time). Squire does the joining,
// lists, quotes and links itself, and sets no style attribute for anything we use (its
// image handles and font functions do, and we use neither). What enters through setHTML
// passes `fragmentOf` first: only the elements a message needs, no attribute but a link's
// http(s)/mailto href. A paste or drop from elsewhere comes in as text: Chromium reports
// every style attribute it parses under our policy, even in an inert <template>, and web
// pages are full of them. The server sanitises whatever arrives anyway
// (mailbox/content/compose_html.py).
//
// Without this script the fieldset holding "Rich text" stays disabled (never sent) and the
// textarea is the message. With it, "Rich text" on shows the editor in place of the textarea
// and keeps the hidden `html` field equal to the editor's HTML; off, `html` is empty and the
// editor's text goes back into the textarea. Only the body shown is named "Message".
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  var format = form && form.querySelector("[data-compose-format]");
  var rich = form && form.querySelector("[data-compose-rich]");
  if (!format || !rich || !window.Squire) { return; }
  var toggle = format.querySelector("input[type=checkbox]");
  var textarea = form.elements.namedItem("text");
  var html = form.elements.namedItem("html");
  var editor = rich.querySelector("#compose-editor");
  var textareaLabel = form.querySelector("label[for='" + textarea.id + "']");
  var linkBox = rich.querySelector("[data-compose-link]");
  var linkAddress = linkBox.querySelector("input");
  var buttons = rich.querySelectorAll("[data-command]");
  var KEPT = /^(DIV|P|BR|B|STRONG|I|EM|U|S|DEL|UL|OL|LI|A|BLOCKQUOTE|PRE|CODE|H[1-3])$/;
  var DROPPED = /^(SCRIPT|STYLE|TEMPLATE|IFRAME|OBJECT|EMBED|SVG|MATH|IMG|PICTURE|VIDEO|AUDIO|HEAD|TITLE|META|LINK|NOSCRIPT|FORM|INPUT|BUTTON|SELECT|TEXTAREA)$/;
  var BLOCKS = /^(DIV|P|LI|UL|OL|BLOCKQUOTE|PRE|H[1-6])$/;
  var FORMATS = { bold: "B", italic: "I", ul: "UL", ol: "OL", quote: "BLOCKQUOTE" };

  // Parsed in an inert <template> (nothing loads, no policy applies there), cleaned, then
  // brought into the page: no attribute the policy would refuse ever reaches it.
  function fragmentOf(markup) {
    var template = document.createElement("template");
    template.innerHTML = markup;
    clean(template.content);
    return document.importNode(template.content, true);
  }

  function clean(parent) {
    Array.prototype.slice.call(parent.childNodes).forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE) { return; }
      var name = node.nodeType === Node.ELEMENT_NODE ? node.nodeName.toUpperCase() : "";
      if (!name || DROPPED.test(name)) {
        node.remove();
        return;
      }
      clean(node);
      if (!KEPT.test(name)) {
        node.replaceWith.apply(node, Array.prototype.slice.call(node.childNodes));
        return;
      }
      var href = name === "A" ? (node.getAttribute("href") || "").trim() : "";
      Array.prototype.slice.call(node.attributes).forEach(function (attribute) {
        node.removeAttribute(attribute.name);
      });
      if (/^(https?:\/\/|mailto:)/i.test(href)) { node.setAttribute("href", href); }
    });
  }

  var squire = new window.Squire(editor, { blockTag: "DIV", sanitizeToDOMFragment: fragmentOf });

  function show(isRich) {
    rich.hidden = !isRich;
    textarea.closest(".field").hidden = isRich;
    if (textareaLabel) { textareaLabel.htmlFor = isRich ? "" : textarea.id; }
    if (isRich) {
      editor.setAttribute("aria-labelledby", "compose-editor-label");
    } else {
      editor.removeAttribute("aria-labelledby");
    }
  }

  function store() { html.value = toggle.checked ? squire.getHTML() : ""; }

  // A change made from the toolbar is an input as well (the draft autosave listens for it).
  function changed() {
    store();
    editor.dispatchEvent(new Event("input", { bubbles: true }));
    showStates();
  }

  // Plain text as the editor's lines: one <div> each, an empty one holding a <br>.
  function textToHtml(text) {
    var holder = document.createElement("div");
    text.replace(/\r\n?/g, "\n").split("\n").forEach(function (line) {
      var block = document.createElement("div");
      block.appendChild(line ? document.createTextNode(line) : document.createElement("br"));
      holder.appendChild(block);
    });
    return holder.innerHTML;
  }

  // The editor's text for the textarea: quotes as "> ", list items as "- ", links "text <url>".
  function editorText() {
    var lines = [];
    var line = "";
    function end(prefix, always) {
      var text = line.replace(/\u00a0/g, " ").replace(/\s+/g, " ");
      if (text !== "-- ") { text = text.trim(); }
      if (text || always) { lines.push(text === "-- " ? prefix + text : (prefix + text).trimEnd()); }
      line = "";
    }
    function walk(node, prefix) {
      for (var child = node.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === Node.TEXT_NODE) { line += child.data; continue; }
        if (child.nodeType !== Node.ELEMENT_NODE) { continue; }
        if (child.nodeName === "BR") { end(prefix, true); continue; }
        var block = BLOCKS.test(child.nodeName);
        if (block) { end(prefix, false); }
        if (child.nodeName === "LI") { line = "- "; }
        walk(child, child.nodeName === "BLOCKQUOTE" ? prefix + "> " : prefix);
        var href = child.nodeName === "A" ? child.getAttribute("href") || "" : "";
        if (href && href !== child.textContent && href !== "mailto:" + child.textContent) {
          line += " <" + href + ">";
        }
        if (block) { end(prefix, false); }
      }
    }
    walk(editor, "");
    end("", false);
    return lines.join("\n");
  }

  function switchTo(isRich) {
    if (isRich) {
      var unchanged = textarea.value === textarea.defaultValue && html.defaultValue;
      // Unchanged: the server's version (sanitised, with the quote and the signature).
      squire.setHTML(unchanged ? html.defaultValue : textToHtml(textarea.value));
    } else {
      textarea.value = editorText();
    }
    show(isRich);
    store();
    if (isRich) { squire.focus(); } else { textarea.focus(); }
  }

  function showStates() {
    buttons.forEach(function (button) {
      var tag = FORMATS[button.getAttribute("data-command")];
      if (tag) { button.setAttribute("aria-pressed", squire.hasFormat(tag) ? "true" : "false"); }
    });
  }

  function run(command) {
    var tag = FORMATS[command];
    var on = tag ? squire.hasFormat(tag) : false;
    if (command === "link") {
      linkBox.hidden = false;
      linkAddress.value = "";
      linkAddress.focus();
      return;
    }
    if (command === "bold") { if (on) { squire.removeBold(); } else { squire.bold(); } }
    if (command === "italic") { if (on) { squire.removeItalic(); } else { squire.italic(); } }
    if (command === "ul") { if (on) { squire.removeList(); } else { squire.makeUnorderedList(); } }
    if (command === "ol") { if (on) { squire.removeList(); } else { squire.makeOrderedList(); } }
    if (command === "quote") {
      if (on) { squire.decreaseQuoteLevel(); } else { squire.increaseQuoteLevel(); }
    }
    if (command === "unlink") { squire.removeLink(); }
    squire.focus();
    changed();
  }

  // What the person typed as a link address: a web or mail address, else nothing.
  function linkHref(typed) {
    var value = typed.trim();
    if (/^(https?:\/\/|mailto:)\S+$/i.test(value)) { return value; }
    if (/^[^\s@/:]+@[^\s@/]+\.[^\s@/]+$/.test(value)) { return "mailto:" + value; }
    if (/^[^\s@/:]+\.[^\s@]+$/.test(value)) { return "https://" + value; }
    return "";
  }

  function closeLinkBox() {
    linkBox.hidden = true;
    linkAddress.value = "";
    linkAddress.removeAttribute("aria-invalid");
    squire.focus();
  }

  function addLink() {
    var href = linkHref(linkAddress.value);
    if (!href) {
      linkAddress.setAttribute("aria-invalid", "true");
      return;
    }
    closeLinkBox();
    squire.makeLink(href); // around the chosen words; with none, the address itself
    changed();
  }

  // A paste, or a drop from outside the editor: its text only (Squire makes web and mail
  // addresses in it links). Caught before Squire's own handlers; files go to the attachments.
  var dragFromEditor = false;
  function asText(event, data) {
    if (!data || dragFromEditor || Array.prototype.indexOf.call(data.types, "Files") >= 0) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    if (event.type === "drop" && document.caretRangeFromPoint) {
      var range = document.caretRangeFromPoint(event.clientX, event.clientY);
      if (range && editor.contains(range.startContainer)) { squire.setSelection(range); }
    }
    squire.insertPlainText(data.getData("text/plain") || "", true);
    changed();
  }

  format.hidden = false;
  format.disabled = false;
  if (toggle.checked) {
    squire.setHTML(html.value); // sanitised by the server when the page was made
  }
  show(toggle.checked);
  store();

  toggle.addEventListener("change", function () { switchTo(toggle.checked); });
  squire.addEventListener("input", store);
  squire.addEventListener("pathChange", showStates);
  rich.querySelector(".compose-toolbar").addEventListener("mousedown", function (event) {
    if (event.target.closest("button")) { event.preventDefault(); } // the caret stays put
  });
  rich.querySelector(".compose-toolbar").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-command]");
    if (button) { run(button.getAttribute("data-command")); }
  });
  linkBox.querySelector("[data-link-add]").addEventListener("click", addLink);
  linkBox.querySelector("[data-link-cancel]").addEventListener("click", closeLinkBox);
  linkAddress.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { // not Send: the address goes in
      event.preventDefault();
      addLink();
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeLinkBox();
    }
  });
  rich.addEventListener("paste", function (event) { asText(event, event.clipboardData); }, true);
  rich.addEventListener("drop", function (event) { asText(event, event.dataTransfer); }, true);
  editor.addEventListener("dragstart", function () { dragFromEditor = true; });
  editor.addEventListener("dragend", function () { dragFromEditor = false; });
  form.addEventListener("submit", store);
})();
