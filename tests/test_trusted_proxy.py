"""Behind a reverse proxy: the client IP comes from X-Forwarded-For only via a trusted proxy."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from webmail.middleware import TrustedProxyClientIpMiddleware


def client_ip_seen(remote_addr: str, forwarded_for: str | None) -> str:
    seen: dict[str, str] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["ip"] = request.META["REMOTE_ADDR"]
        return HttpResponse()

    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)
    TrustedProxyClientIpMiddleware(view)(request)
    return seen["ip"]


@override_settings(TRUSTED_PROXY_IPS=["10.0.0.2"])
def test_it_takes_the_client_ip_from_a_trusted_proxy() -> None:
    assert client_ip_seen("10.0.0.2", "203.0.113.7") == "203.0.113.7"


@override_settings(TRUSTED_PROXY_IPS=["10.0.0.2"])
def test_it_ignores_the_header_from_anyone_else() -> None:
    assert client_ip_seen("198.51.100.9", "203.0.113.7") == "198.51.100.9"


@override_settings(TRUSTED_PROXY_IPS=["10.0.0.2", "10.0.0.3"])
def test_it_skips_a_spoofed_left_part_and_proxy_hops() -> None:
    # The client sent a fake "1.2.3.4"; the first proxy appended the real address.
    assert client_ip_seen("10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.3") == "203.0.113.7"


@pytest.mark.parametrize("forwarded", [None, ""])
@override_settings(TRUSTED_PROXY_IPS=[])
def test_it_changes_nothing_without_trusted_proxies(forwarded: str | None) -> None:
    assert client_ip_seen("198.51.100.9", forwarded) == "198.51.100.9"
