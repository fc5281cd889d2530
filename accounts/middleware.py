"""Per-request middleware for signed-in people: their time zone, and required two-factor set-up."""

import zoneinfo
from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from accounts import two_factor


class UserTimeZoneMiddleware:
    """Dates in pages and forms are in the signed-in person's own time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = _time_zone_of(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _time_zone_of(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
    user = request.user
    if not user.is_authenticated:
        return None
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class TwoFactorSetupMiddleware:
    """Somebody who must use two-factor sign-in and has no device yet goes to set one up
    before any other page (the admin included)."""

    ALLOWED_VIEWS = frozenset(
        {"accounts:two_factor", "accounts:two_factor_enable", "accounts:logout", "healthz"}
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        if request.resolver_match.view_name in self.ALLOWED_VIEWS:
            return None
        if not request.user.is_authenticated or not two_factor.needs_setup(request.user):
            return None
        url = f"{reverse('accounts:two_factor')}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)
