from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page is the unified inbox (with a pointer to add an account if none)."""
    return redirect("mail:inbox")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the container healthcheck: the process serves requests."""
    return JsonResponse({"status": "ok"})
