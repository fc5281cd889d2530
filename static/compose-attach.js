// Attachments on the compose page (templates/mail/compose/_attachments.html): files picked
// with the file input or dropped anywhere on the form are uploaded at once, one request each
// (XMLHttpRequest, for its upload progress), to mailbox/views/uploads.py under the page's
// Message-ID; each shows a <progress> until the server answers with the file's row (name,
// size, Remove). A file that would pass the limit the page states is refused here before any
// byte goes; the server checks again (also the SMTP server's SIZE) and its refusal, in plain
// words, is shown the same way. Send waits while uploads are running. Without this file the
// file input's files simply go with the form.
(function () {
  "use strict";

  function sizeText(bytes) {
    var units = ["bytes", "KB", "MB", "GB"];
    var value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? value + " bytes" : value.toFixed(1) + "\u00a0" + units[unit];
  }

  function setUp(form, box) {
    var input = box.querySelector('input[type="file"]');
    var list = box.querySelector(".attach-list");
    var problem = box.querySelector(".attach-error");
    var limit = parseInt(box.dataset.maxBytes, 10);
    var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var running = 0;

    function say(words) {
      problem.textContent = words;
      problem.hidden = !words;
    }

    function attachedBytes() {
      var total = 0;
      list.querySelectorAll(".attach-row").forEach(function (row) {
        total += parseInt(row.dataset.size, 10) || 0;
      });
      return total;
    }

    function uploadUrl() {
      var query = new URLSearchParams();
      query.set("message_id", form.elements.message_id.value);
      if (form.elements.identity) query.set("identity", form.elements.identity.value);
      return box.dataset.uploadUrl + "?" + query.toString();
    }

    function showRemove(row) {
      var button = row.querySelector(".attach-remove");
      if (button) button.hidden = false;
    }

    function pendingRow(file) {
      var row = document.createElement("li");
      row.className = "attach-row is-uploading";
      row.dataset.size = String(file.size);
      var name = document.createElement("span");
      name.className = "attach-name";
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Uploading " + file.name);
      row.append(name, " ", bar);
      list.appendChild(row);
      return row;
    }

    function upload(file) {
      var total = attachedBytes() + file.size;
      if (total > limit) {
        say("\u201c" + file.name + "\u201d (" + sizeText(file.size) + ") is too big to attach: " +
            "a message can carry " + sizeText(limit) + " of attachments in all" +
            (total > file.size ? ", and " + sizeText(total - file.size) + " are attached already." : "."));
        return;
      }
      var row = pendingRow(file);
      var bar = row.querySelector("progress");
      var request = new XMLHttpRequest();
      var body = new FormData();
      body.append("file", file, file.name);
      request.open("POST", uploadUrl());
      request.setRequestHeader("X-CSRFToken", token);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
      });
      request.addEventListener("loadend", function () {
        running -= 1;
        if (request.status === 200) {
          var holder = document.createElement("template");
          holder.innerHTML = request.responseText.trim();
          var done = holder.content.firstElementChild;
          row.replaceWith(done);
          showRemove(done);
        } else {
          row.remove();
          say(request.status && request.responseText && request.responseText.length < 600
            ? request.responseText
            : "\u201c" + file.name + "\u201d could not be uploaded. Try again.");
        }
      });
      running += 1;
      request.send(body);
    }

    function uploadAll(files) {
      say("");
      Array.prototype.forEach.call(files, upload);
    }

    list.querySelectorAll(".attach-row").forEach(showRemove);
    box.querySelector(".attach-hint").hidden = false;

    input.addEventListener("change", function () {
      uploadAll(input.files);
      input.value = ""; // uploaded now: not sent again with the form
    });

    list.addEventListener("click", function (event) {
      var button = event.target.closest(".attach-remove");
      if (!button) return;
      button.disabled = true;
      fetch(button.dataset.removeUrl, {
        method: "POST",
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        button.closest(".attach-row").remove();
        say("");
      }).catch(function () {
        button.disabled = false;
        say("The file could not be removed. Try again.");
      });
    });

    form.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
        event.preventDefault();
        form.classList.add("is-dropping");
      }
    });
    form.addEventListener("dragleave", function (event) {
      if (!form.contains(event.relatedTarget)) form.classList.remove("is-dropping");
    });
    form.addEventListener("drop", function (event) {
      form.classList.remove("is-dropping");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      uploadAll(event.dataTransfer.files);
    });

    form.addEventListener("submit", function (event) {
      if (running > 0) {
        event.preventDefault();
        say("Wait until the attachments have finished uploading, then send.");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("compose-form");
    var box = document.getElementById("compose-attachments");
    if (form && box) setUp(form, box);
  });
})();
