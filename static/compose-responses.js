// Saved responses in compose (templates/mail/compose/_tools.html): "Insert saved response"
// puts the chosen text (its option's data-body; the picker comes from mail:response_picker)
// where the cursor is in the message: the textarea, or the rich text editor when it is the one
// shown (static/compose-editor.js: Squire on a contenteditable, which takes execCommand
// "insertText" at the last place the cursor was in it and keeps the `html` field in step).
// Listeners sit on the document, so the picker htmx brings in after the page loads needs
// nothing more.
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  if (!form) { return; }
  var lastRange = null; // where the cursor last was inside a contenteditable body

  function shown(element) { return element && !element.closest("[hidden]"); }

  // The rich text editor stays in the page while plain text is on (hidden): only a shown one.
  function editableBody() {
    var found = form.querySelectorAll("[contenteditable]:not([contenteditable=false])");
    return Array.prototype.filter.call(found, shown)[0] || null;
  }

  document.addEventListener("selectionchange", function () {
    var editable = editableBody();
    var selection = window.getSelection();
    if (editable && selection && selection.rangeCount && editable.contains(selection.anchorNode)) {
      lastRange = selection.getRangeAt(0).cloneRange();
    }
  });

  function insertInTextarea(area, text) {
    var start = area.selectionStart || 0;
    var end = area.selectionEnd || start;
    area.focus();
    area.setRangeText(text, start, end, "end");
    area.dispatchEvent(new Event("input", { bubbles: true })); // drafts notice the change
  }

  function insertInEditable(editable, text) {
    editable.focus();
    if (lastRange) {
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(lastRange);
    }
    document.execCommand("insertText", false, text);
  }

  function insert(text) {
    var editable = editableBody();
    if (editable) {
      insertInEditable(editable, text);
      return;
    }
    var area = form.querySelector("textarea[name=text]");
    if (area) { insertInTextarea(area, text); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".insert-response");
    if (!button || !form.contains(button)) { return; }
    var select = form.querySelector("#saved-response");
    var option = select && select.selectedOptions[0];
    if (option) { insert(option.getAttribute("data-body") || ""); }
  });
})();
