"""Compose: the page (new, ?reply=, ?reply_all=, ?forward= a location id of the person's) and
Send, which records the message in the outbox (now after the undo window, or at "Send at")
and goes back to the inbox; Undo takes it back and reopens it (?undone=). The logic is in
mailbox/services/compose.py. Another person's message, identity or outgoing id answers 404."""

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from accounts.services.mail_accounts import check_identity_for_user
from mailbox.forms_compose import ComposeForm
from mailbox.models import OutgoingMessage
from mailbox.protocols.mime_build import DraftError
from mailbox.selectors.folders import sidebar
from mailbox.selectors.outbox import outgoing_for_user
from mailbox.services import compose as service
from mailbox.services import drafts
from mailbox.services.outbox import do_cancel
from mailbox.views import drafts as draft_views

SOURCES = ("reply", "reply_all", "forward")
UNDONE = "undone"  # ?undone=<outgoing id>: a message taken back, to write again
UNDO_SESSION_KEY = "undo_send"  # the message the inbox's Undo button takes back
# ?draft=<draft id>: a saved draft; ?edit_draft=<location id>: a message in a Drafts folder.
REOPEN = {"draft": drafts.initial_from_saved, "edit_draft": drafts.initial_from_location}


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("action") in draft_views.ACTIONS:
        return draft_views.from_compose(request, render_page=_page)  # Save / Discard draft
    if request.method == "POST":
        identity_id = request.POST.get("identity", "")
        if identity_id.isascii() and identity_id.isdigit():
            check_identity_for_user(request.user, int(identity_id))  # 404 if not theirs
        form = ComposeForm(request.user, request.POST, request.FILES)
        if form.is_valid():
            try:
                queued = service.do_send_draft(request.user, form.cleaned_data)
            except DraftError as error:
                form.add_error(service.field_of(error), str(error))
            else:
                _say_sent(request, queued, form.cleaned_data["send_at"])
                return _to_inbox(request)
    else:
        form = ComposeForm(request.user, initial=_initial(request))
    return _page(request, form)


def _page(request: HttpRequest, form: ComposeForm) -> HttpResponse:
    context = {
        "form": form,
        "sidebar": sidebar(request.user),
        "pane_open": True,
        "pane_only": True,
        "pane_label": "Compose",
        "draft_save_seconds": settings.MAIL_DRAFT_SAVE_SECONDS,
    }
    return render(request, "mail/compose.html", context)


@login_required
@require_POST
def undo_send(request: HttpRequest, outgoing_id: int) -> HttpResponse:
    """Takes a message back while its undo window lasts, and reopens it in compose."""
    if not do_cancel(outgoing_for_user(request.user, outgoing_id)):
        messages.error(request, "Too late to undo: the message is on its way.")
        return redirect("mail:inbox")
    messages.success(request, "Sending was undone.")
    return redirect(f"{reverse('mail:compose')}?{urlencode({UNDONE: outgoing_id})}")


def _to_inbox(request: HttpRequest) -> HttpResponse:
    """After Send, the inbox as a whole page: its note carries the Undo (templates/base.html).
    The form is a plain POST (no script submits it), but were htmx ever to send it, following
    a redirect would swap the inbox into the page and use up the note: HX-Redirect instead
    makes htmx load the inbox as a page."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("mail:inbox")
        return response
    return redirect("mail:inbox")


def _say_sent(request: HttpRequest, queued: OutgoingMessage, send_at: dt.datetime | None) -> None:
    """The inbox's note; right after Send it carries the Undo button (templates/base.html
    reads the message's id from the session), unless the undo window is 0."""
    if send_at is not None:
        when = date_format(timezone.localtime(send_at), "DATETIME_FORMAT")
        messages.success(request, f"Scheduled for {when}")
    elif settings.MAIL_UNDO_SEND_SECONDS > 0:
        request.session[UNDO_SESSION_KEY] = queued.pk
        messages.success(request, "Sending…", extra_tags="undo-send")
    else:
        messages.success(request, "Sending…")


def _initial(request: HttpRequest) -> dict[str, Any]:
    for key, reopen in REOPEN.items():  # a saved draft, or one in a Drafts folder
        value = request.GET.get(key, "")
        if value:
            if not (value.isascii() and value.isdigit()):
                raise Http404("No such draft.")
            return reopen(request.user, int(value))
    undone = request.GET.get(UNDONE, "")
    if undone:
        if not (undone.isascii() and undone.isdigit()):
            raise Http404("No such message.")
        return service.initial_from_cancelled(request.user, int(undone))
    return service.initial_for(request.user, _source(request))


def _source(request: HttpRequest) -> service.Source | None:
    for kind in SOURCES:
        value = request.GET.get(kind, "")
        if value:
            if not (value.isascii() and value.isdigit()):
                return service.Source(kind, 0)  # answers 404 like a stranger's id
            return service.Source(kind, int(value))
    return None
