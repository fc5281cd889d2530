"""Drafts: the list of the person's saved drafts; the autosave endpoint (static/compose-draft.js
posts the compose form there a few seconds after the person stops typing, and shows the words
it answers in the status line); the compose page's Save draft and Discard draft buttons, which
work without JavaScript. The logic is in mailbox/services/drafts.py. Another person's identity
answers 404."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.services.mail_accounts import check_identity_for_user
from mailbox.forms_compose import ComposeForm
from mailbox.forms_drafts import DraftForm
from mailbox.selectors.folders import sidebar
from mailbox.services import drafts as service

SAVE, DISCARD = "draft", "discard"
ACTIONS = (SAVE, DISCARD)  # the compose form's `action` buttons handled here


@login_required
@require_GET
def listing(request: HttpRequest) -> HttpResponse:
    context = {
        "drafts": service.saved_drafts(request.user),
        "sidebar": sidebar(request.user),
        "pane_open": True,
        "pane_only": True,
        "pane_label": "Drafts",
        "is_drafts": True,
    }
    return render(request, "mail/drafts.html", context)


@login_required
@require_POST
def save(request: HttpRequest) -> JsonResponse:
    form = _bound_form(request)
    if not form.is_valid():
        return JsonResponse({"status": f"Draft not saved: {_first_error(form)}"}, status=400)
    draft = service.do_save_draft(request.user, form.cleaned_data)
    if draft is None:
        return JsonResponse({"status": "This message was sent: it is no draft."}, status=409)
    return JsonResponse(
        {"status": service.saved_label(draft), "draft": draft.pk, "version": draft.version}
    )


def from_compose(
    request: HttpRequest, render_page: Callable[[HttpRequest, ComposeForm], HttpResponse]
) -> HttpResponse:
    """The compose view's POST with action=draft or discard (its own decorators apply); a
    form that cannot be saved goes back to the compose page, saying why."""
    form = _bound_form(request)
    if not form.is_valid():
        return render_page(request, ComposeForm(request.user, request.POST))
    if request.POST.get("action") == DISCARD:
        cleaned = form.cleaned_data
        service.do_discard_draft(request.user, cleaned["message_id"], cleaned["identity"])
        messages.success(request, "Draft discarded.")
        return redirect("mail:inbox")
    draft = service.do_save_draft(request.user, form.cleaned_data)
    if draft is None:
        messages.error(request, "This message was sent: it is no draft.")
        return redirect("mail:inbox")
    messages.success(request, service.saved_label(draft))
    return redirect(f"{reverse('mail:compose')}?draft={draft.pk}")


def _bound_form(request: HttpRequest) -> DraftForm:
    identity_id = request.POST.get("identity", "")
    if identity_id.isascii() and identity_id.isdigit():
        check_identity_for_user(request.user, int(identity_id))  # 404 if not theirs
    return DraftForm(request.user, request.POST)


def _first_error(form: DraftForm) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return ""
