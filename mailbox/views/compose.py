"""Compose: the page (new, ?reply=, ?reply_all=, ?forward= a location id of the person's) and
Send, which records the message in the outbox and goes back to the inbox (the logic is in
mailbox/services/compose.py). Another person's message or identity answers 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.services.mail_accounts import check_identity_for_user
from mailbox.forms_compose import ComposeForm
from mailbox.protocols.mime_build import DraftError
from mailbox.selectors.folders import sidebar
from mailbox.services import compose as service

SOURCES = ("reply", "reply_all", "forward")


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        identity_id = request.POST.get("identity", "")
        if identity_id.isascii() and identity_id.isdigit():
            check_identity_for_user(request.user, int(identity_id))  # 404 if not theirs
        form = ComposeForm(request.user, request.POST, request.FILES)
        if form.is_valid():
            try:
                service.do_send_draft(request.user, form.cleaned_data)
            except DraftError as error:
                form.add_error(service.field_of(error), str(error))
            else:
                messages.success(request, "Sending…")
                return redirect("mail:inbox")
    else:
        form = ComposeForm(
            request.user, initial=service.initial_for(request.user, _source(request))
        )
    context = {
        "form": form,
        "sidebar": sidebar(request.user),
        "pane_open": True,
        "pane_only": True,
        "pane_label": "Compose",
    }
    return render(request, "mail/compose.html", context)


def _source(request: HttpRequest) -> service.Source | None:
    for kind in SOURCES:
        value = request.GET.get(kind, "")
        if value:
            if not (value.isascii() and value.isdigit()):
                return service.Source(kind, 0)  # answers 404 like a stranger's id
            return service.Source(kind, int(value))
    return None
