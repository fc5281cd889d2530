"""Request middleware of our own."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class TrustedProxyClientIpMiddleware:
    """Takes the client's IP from X-Forwarded-For, but only from a trusted reverse proxy.

    Anybody can send an X-Forwarded-For header, so it is believed only when the connection
    comes from an address in TRUSTED_PROXY_IPS. The right-most address that is not itself a
    trusted proxy is the client (each proxy appends the address it saw).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = frozenset(settings.TRUSTED_PROXY_IPS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted and request.META.get("REMOTE_ADDR") in self.trusted:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            for hop in reversed(hops):
                if hop not in self.trusted:
                    request.META["REMOTE_ADDR"] = hop
                    break
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Gives every response without a Content-Security-Policy of its own the app's policy.

    Responses that carry other content set a stricter one themselves and keep it: the message
    frame (`default-src 'none'`, `frame-ancestors 'self'`) and attachment downloads (a
    sandbox). With DEBUG on, error pages go without: Django's debug pages are styled and
    scripted inline.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400:
            return response
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
