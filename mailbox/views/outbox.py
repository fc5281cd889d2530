"""The Outbox page: the person's outgoing messages by what they can do about them (see
mailbox/selectors/outbox.py), and the person's moves, each one conditional state change in
mailbox/services/outbox.py: take a waiting or failed message back to compose, and settle an
`unknown` one ("It arrived", "Send again"). Another person's outgoing id answers 404."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from mailbox.selectors.folders import sidebar
from mailbox.selectors.outbox import outbox_page, outgoing_for_user
from mailbox.services import outbox as service
from mailbox.views.compose import UNDONE

POLL_SECONDS = 10  # the page follows its messages while some are on their way
NOT_UNKNOWN = "This message is no longer waiting for your answer."


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    page = outbox_page(request.user)
    context = {
        "outbox": page,
        "poll_seconds": POLL_SECONDS,
        "sidebar": sidebar(request.user),
        "is_outbox": True,
        "pane_open": True,
        "pane_only": True,
        "pane_label": "Outbox",
    }
    if request.htmx:
        return render(request, "mail/outbox.html#outbox-body", context)
    return render(request, "mail/outbox.html", context)


@login_required
@require_POST
def withdraw(request: HttpRequest, outgoing_id: int) -> HttpResponse:
    """A waiting message taken back (or a failed one, to edit), reopened in compose."""
    if not service.do_cancel(outgoing_for_user(request.user, outgoing_id)):
        messages.error(request, "Too late to take it back: the message is on its way.")
        return redirect("mail:outbox")
    messages.success(request, "The message was taken back. Change it and send it again.")
    return redirect(f"{reverse('mail:compose')}?{urlencode({UNDONE: outgoing_id})}")


@login_required
@require_POST
def mark_arrived(request: HttpRequest, outgoing_id: int) -> HttpResponse:
    if service.do_mark_arrived(outgoing_for_user(request.user, outgoing_id)):
        messages.success(request, "Marked as sent. A copy goes to your Sent folder.")
    else:
        messages.error(request, NOT_UNKNOWN)
    return redirect("mail:outbox")


@login_required
@require_POST
def send_again(request: HttpRequest, outgoing_id: int) -> HttpResponse:
    if service.do_send_again(outgoing_for_user(request.user, outgoing_id)):
        messages.success(request, "The message is queued to be sent again.")
    else:
        messages.error(request, NOT_UNKNOWN)
    return redirect("mail:outbox")
