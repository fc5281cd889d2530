"""Address suggestions for compose's To, Cc and Bcc (static/compose-suggest.js asks as the
person types): a listbox fragment of the person's own correspondents, one query
(mailbox/services/suggestions.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from mailbox.services.suggestions import suggest

FIELDS = ("to", "cc", "bcc")


@login_required
@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    field = request.GET.get("field", "to")
    context = {
        "field": field if field in FIELDS else "to",
        "suggestions": suggest(request.user, request.GET.get("q", "")[:200]),
    }
    return render(request, "mail/compose/_suggestions.html", context)
