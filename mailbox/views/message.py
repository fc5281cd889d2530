"""One message, its source, its print view, its conversation; trusting a sender's images.

A message page marks its location read when opened and shows the body in a sandboxed frame
whose signed URL carries the images choice (mailbox/services/frames.py). With htmx only the
reading pane is rendered (a list on a wide screen opens it beside itself, static/mail-select.js);
otherwise, and when htmx restores history, the whole mail screen: the sidebar and the message,
without a list column (`pane_only`): the list it came from is one "Back" or "u" away.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from mailbox.models import MessageLocation
from mailbox.selectors.folders import sidebar
from mailbox.selectors.message import (
    attachments_of,
    location_for_user,
    thread_entries,
    thread_for_user,
    trusted_addresses,
)
from mailbox.services import reading
from mailbox.views.parts import file_response

MAX_SOURCE_CHARS = 1_000_000  # shown in the page; the whole message is one click away
READ_EVENT = "mail-read"  # tells the list (htmx) to refresh its unread marks


@login_required
@require_GET
def message(request: HttpRequest, location_id: int) -> HttpResponse:
    location = location_for_user(request.user, location_id)
    opened = reading.mark_opened([location])
    return _respond(request, "mail/message.html", _message_context(request, location), bool(opened))


def _respond(
    request: HttpRequest, template: str, context: dict[str, object], opened: bool
) -> HttpResponse:
    """The pane alone for htmx, else the whole screen. A history restore asks for the whole
    page, and Vary keeps a browser from reusing one answer for the other at the same URL."""
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{template}#pane", context)
        if opened:
            response["HX-Trigger"] = READ_EVENT
    else:
        response = render(request, template, {**context, **_screen(request, context)})
    patch_vary_headers(response, ("HX-Request", "HX-History-Restore-Request"))
    return response


def _message_context(request: HttpRequest, location: MessageLocation) -> dict[str, object]:
    message = location.message
    trusted = bool(trusted_addresses(request.user, [message.sender_email]))
    body = reading.message_body(
        request.user, message, images=request.GET.get("images") == "1", trusted=trusted
    )
    as_text = request.GET.get("view") == "text"
    return {
        "location": location,
        "message": message,
        "body": body,
        "as_text": as_text,
        "text": reading.plain_text(message) if as_text and body.is_ready else "",
        "attachments": attachments_of([message.pk]).get(message.pk, []),
        "pane_open": True,
    }


def _screen(request: HttpRequest, context: dict[str, object]) -> dict[str, object]:
    """What the mail screen around the pane needs (templates/mail/layout.html); the sidebar
    marks a message's folder as the current one."""
    location = context.get("location")
    return {
        "sidebar": sidebar(request.user),
        "pane_only": True,
        "current_folder_id": location.folder_id if isinstance(location, MessageLocation) else None,
    }


@login_required
@require_GET
def source(request: HttpRequest, location_id: int) -> HttpResponse:
    """The raw message as text in a <pre> (escaped like everything else), or, with
    ?download=1, the .eml file under the same rules as attachments."""
    location = location_for_user(request.user, location_id)
    raw = reading.raw_message(location.message)
    if raw is not None and request.GET.get("download") == "1":
        return file_response(raw, "application/octet-stream", name="message.eml")
    text = raw.decode("utf-8", "replace") if raw is not None else None
    context = {
        "location": location,
        "message": location.message,
        "text": text[:MAX_SOURCE_CHARS] if text is not None else None,
        "is_cut": text is not None and len(text) > MAX_SOURCE_CHARS,
    }
    return render(request, "mail/source.html", context)


@login_required
@require_GET
def printable(request: HttpRequest, location_id: int) -> HttpResponse:
    location = location_for_user(request.user, location_id)
    return render(request, "mail/print.html", _message_context(request, location))


@login_required
@require_GET
def thread(request: HttpRequest, thread_id: int) -> HttpResponse:
    """The whole conversation, oldest first; the newest message open, the others folded.
    ?images=<message id> shows one message's remote images."""
    conversation = thread_for_user(request.user, thread_id)
    entries = thread_entries(request.user, conversation)
    opened = reading.mark_opened(entry.location for entry in entries)
    items = reading.conversation_bodies(
        request.user, entries, images_for=_int_or_none(request.GET.get("images"))
    )
    context = {"thread": conversation, "items": items, "pane_open": True}
    return _respond(request, "mail/thread.html", context, bool(opened))


@login_required
@require_POST
def trust_sender(request: HttpRequest) -> HttpResponse:
    """Always show images from a message's sender (POST location=<id>): the address is
    taken from that message, never from the form. Back to `next` (a path of this
    site, such as the conversation) or the message."""
    location = location_for_user(request.user, _int_or_none(request.POST.get("location")) or 0)
    reading.do_trust_sender(request.user, location.message.sender_email)
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        return redirect(back)
    return redirect("mail:message", location_id=location.pk)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None
