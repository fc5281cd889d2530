// Draft autosave for the compose page (templates/mail/compose/_actions.html).
// A few seconds (the status line's data-save-seconds, MAIL_DRAFT_SAVE_SECONDS) after the
// person stops typing, and when the page is hidden or left, the form's fields (not its file
// inputs: files are staged on their own) are posted to data-save-url, which answers with the
// words for the status line ("Draft saved 10:42"). One save at a time: changes made while one
// is on its way are saved right after it. Any submit (Send, Save draft, Discard draft) stops
// autosaving, so a late save cannot bring back a draft that was just sent or discarded.
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  var status = document.getElementById("draft-status");
  if (!form || !status || !window.fetch || !window.FormData) { return; }
  var url = status.getAttribute("data-save-url");
  var delay = Math.max(0, parseFloat(status.getAttribute("data-save-seconds")) || 0) * 1000;
  var timer = 0;
  var dirty = false; // changed since the last save began
  var saving = false;
  var stopped = false; // the form was submitted

  function fields() {
    var data = new FormData(form);
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      data.delete(input.name);
    });
    return data;
  }

  function say(text) { status.textContent = text; }

  function save(leaving) {
    clearTimeout(timer);
    if (stopped || !dirty) { return; }
    if (saving && !leaving) { return; } // saved again when the current one is done
    dirty = false;
    saving = true;
    var request = fetch(url, {
      method: "POST",
      body: fields(),
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      keepalive: leaving === true
    });
    request.then(function (response) {
      return response.json().then(function (answer) {
        say(answer.status || (response.ok ? "Draft saved" : "Draft not saved"));
      });
    }).catch(function () {
      dirty = true;
      say("Draft not saved: no connection. It will be tried again.");
    }).then(function () {
      saving = false;
      if (dirty) { schedule(); }
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  function changed(event) {
    if (stopped || (event.target && event.target.type === "file")) { return; }
    dirty = true;
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    stopped = true;
    clearTimeout(timer);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(true); }
  });
  window.addEventListener("pagehide", function () { save(true); });
})();
