"""Saved responses: the list, add, edit, delete (another person's id answers 404), and the
picker compose's tools row loads (static/compose-responses.js inserts the chosen text at
the cursor). The logic is in mailbox/services/responses.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from mailbox.forms_responses import SavedResponseForm
from mailbox.models import SavedResponse
from mailbox.selectors.folders import sidebar
from mailbox.services import responses as service


@login_required
@require_GET
def responses(request: HttpRequest) -> HttpResponse:
    context = {"responses": service.responses_of(request.user)}
    return render(request, "mail/responses.html", _page(request, context))


@login_required
@require_GET
def picker(request: HttpRequest) -> HttpResponse:
    """The tools row's select: each option carries its text for the script to insert."""
    context = {"responses": service.responses_of(request.user)}
    return render(request, "mail/responses_picker.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest) -> HttpResponse:
    return _edit(request, SavedResponse())


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, response_id: int) -> HttpResponse:
    return _edit(request, service.check_response_for_user(request.user, response_id))


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, response_id: int) -> HttpResponse:
    response = service.check_response_for_user(request.user, response_id)
    if request.method == "POST":
        service.do_delete_response(response)
        messages.success(request, f"The saved response “{response.name}” was deleted.")
        return redirect("mail:responses")
    return render(request, "mail/responses_delete.html", _page(request, {"response": response}))


def _edit(request: HttpRequest, response: SavedResponse) -> HttpResponse:
    editing = response if response.pk else None
    if request.method == "POST":
        form = SavedResponseForm(request.user, request.POST, editing=editing)
        if form.is_valid():
            service.do_save_response(request.user, response, **form.cleaned_data)
            messages.success(request, f"The saved response “{response.name}” was saved.")
            return redirect("mail:responses")
    else:
        initial = {"name": response.name, "body": response.body} if editing else None
        form = SavedResponseForm(request.user, initial=initial, editing=editing)
    context = {"form": form, "response": editing}
    return render(request, "mail/responses_form.html", _page(request, context))


def _page(request: HttpRequest, context: dict[str, object]) -> dict[str, object]:
    """The mail screen around a page of its own: the sidebar, no list column."""
    return {
        **context,
        "sidebar": sidebar(request.user),
        "pane_open": True,
        "pane_only": True,
        "pane_label": "Saved responses",
    }
