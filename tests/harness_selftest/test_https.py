"""The local HTTPS server: routes by Host and path, a test-CA certificate, recorded requests."""

import http.client
import socket
import ssl
import time
import urllib.request
from typing import Any

import pytest

from tests.harness.certs import TestCA
from tests.harness.https import LocalHttpsServer
from tests.harness.ports import STANDARD_HOST

AUTOCONFIG_PATH = "/mail/config-v1.1.xml"
CONFIG = b"<clientConfig version='1.1'/>"


def _context(test_ca: TestCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(test_ca.ca_file))  # verification on


def _connection(
    server: LocalHttpsServer, host: str, context: ssl.SSLContext, timeout: float = 2.0
) -> http.client.HTTPSConnection:
    """Connects to `server` as if DNS resolved `host` to it: SNI and verification use `host`."""

    def connect_to_server(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        return socket.create_connection((server.host, address[1]), *args, **kwargs)

    conn = http.client.HTTPSConnection(host, server.port, context=context, timeout=timeout)
    conn._create_connection = connect_to_server  # type: ignore[attr-defined]
    return conn


def _get(
    server: LocalHttpsServer, host: str, path: str, context: ssl.SSLContext
) -> tuple[int, dict[str, str], bytes]:
    conn = _connection(server, host, context)
    try:
        conn.request("GET", path, headers={"User-Agent": "selftest"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_serves_a_route_on_127_0_0_2_port_443(
    https_server: LocalHttpsServer, test_ca: TestCA
) -> None:
    assert (https_server.host, https_server.port) == (STANDARD_HOST, 443)
    https_server.route("autoconfig.example.test", AUTOCONFIG_PATH, CONFIG)
    status, headers, body = _get(
        https_server,
        "autoconfig.example.test",
        AUTOCONFIG_PATH + "?emailaddress=a%40b",
        _context(test_ca),
    )
    assert (status, body) == (200, CONFIG)
    assert headers["Content-Type"].startswith("text/xml")
    [request] = https_server.requests
    assert (request.scheme, request.method, request.host) == (
        "https",
        "GET",
        "autoconfig.example.test",
    )
    assert (request.path, request.query) == (AUTOCONFIG_PATH, "emailaddress=a%40b")
    assert request.headers["User-Agent"] == "selftest"


def test_urllib_with_the_test_ca(https_server: LocalHttpsServer, test_ca: TestCA) -> None:
    https_server.route(STANDARD_HOST, "/x", b"by address", content_type="text/plain")
    url = https_server.url(STANDARD_HOST, "/x")
    assert url == f"https://{STANDARD_HOST}/x"
    with urllib.request.urlopen(url, context=_context(test_ca), timeout=2) as response:
        assert response.read() == b"by address"


def test_routes_are_keyed_by_host_and_unknown_ones_are_404(
    https_server: LocalHttpsServer, test_ca: TestCA
) -> None:
    https_server.route("example.test", "/.well-known/autoconfig/mail/config-v1.1.xml", b"wk")
    context = _context(test_ca)
    assert (
        _get(https_server, "example.test", "/.well-known/autoconfig/mail/config-v1.1.xml", context)[
            2
        ]
        == b"wk"
    )
    assert (
        _get(
            https_server,
            "autoconfig.example.test",
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            context,
        )[0]
        == 404
    )
    assert _get(https_server, "example.test", "/other", context)[0] == 404
    assert [r.host for r in https_server.requests] == [
        "example.test",
        "autoconfig.example.test",
        "example.test",
    ]


def test_status_headers_and_redirect(https_server: LocalHttpsServer, test_ca: TestCA) -> None:
    https_server.route("example.test", "/gone", b"nope", status=500, headers={"X-Test": "1"})
    https_server.redirect("example.test", "/old", f"https://{STANDARD_HOST}/new", status=301)
    https_server.route("*", "/new", b"moved here")  # urllib keeps our Host header on redirect
    context = _context(test_ca)
    status, headers, _ = _get(https_server, "example.test", "/gone", context)
    assert (status, headers["X-Test"]) == (500, "1")
    status, headers, _ = _get(https_server, "example.test", "/old", context)
    assert (status, headers["Location"]) == (301, f"https://{STANDARD_HOST}/new")
    request = urllib.request.Request(
        f"https://{STANDARD_HOST}/old", headers={"Host": "example.test"}
    )
    with urllib.request.urlopen(request, context=context, timeout=2) as response:
        assert (response.url, response.read()) == (f"https://{STANDARD_HOST}/new", b"moved here")


def test_delay_lets_clients_time_out(https_server: LocalHttpsServer, test_ca: TestCA) -> None:
    https_server.route("example.test", "/slow", b"late", delay=0.5)
    started = time.monotonic()
    conn = _connection(https_server, "example.test", _context(test_ca), timeout=0.2)
    conn.request("GET", "/slow")
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()
    assert time.monotonic() - started < 0.5


def test_certificate_covers_only_its_names(https_server: LocalHttpsServer, test_ca: TestCA) -> None:
    https_server.route("*", "/", b"any host")
    context = _context(test_ca)
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(https_server, "autoconfig.other.test", "/", context)
    assert https_server.requests == []


def test_plain_http_on_port_80(https_server: LocalHttpsServer) -> None:
    https_server.route("autoconfig.example.test", AUTOCONFIG_PATH, CONFIG, scheme="http")
    assert https_server.http_port == 80
    conn = http.client.HTTPConnection(https_server.host, 80, timeout=2)
    conn.request("GET", AUTOCONFIG_PATH, headers={"Host": "autoconfig.example.test"})
    assert conn.getresponse().read() == CONFIG
    conn.close()
    [request] = https_server.requests
    assert request.scheme == "http"


def test_scheme_specific_route(https_server: LocalHttpsServer, test_ca: TestCA) -> None:
    https_server.route("example.test", "/only-http", b"plain", scheme="http")
    assert _get(https_server, "example.test", "/only-http", _context(test_ca))[0] == 404


def test_post_body_is_recorded(https_server: LocalHttpsServer, test_ca: TestCA) -> None:
    https_server.route("example.test", "/api", b"{}", content_type="application/json")
    conn = _connection(https_server, "example.test", _context(test_ca))
    conn.request("POST", "/api", body=b"hello", headers={"Content-Type": "text/plain"})
    assert conn.getresponse().read() == b"{}"
    conn.close()
    assert https_server.requests[0].body == b"hello"


def test_fixture_starts_each_test_empty(https_server: LocalHttpsServer, test_ca: TestCA) -> None:
    assert https_server.requests == []
    assert (
        _get(https_server, "autoconfig.example.test", AUTOCONFIG_PATH, _context(test_ca))[0] == 404
    )


def test_own_server_on_a_free_port_with_extra_names(test_ca: TestCA) -> None:
    with LocalHttpsServer(test_ca, names=("mail.other.test",), host="127.0.0.1", port=0) as server:
        assert server.port not in (0, 443)
        server.route("mail.other.test", "/", b"hi")
        context = _context(test_ca)
        assert _get(server, "mail.other.test", "/", context)[2] == b"hi"
        with pytest.raises(ssl.SSLCertVerificationError):
            _get(server, "new.other.test", "/", context)
        server.add_names("new.other.test")
        assert _get(server, "new.other.test", "/", context)[0] == 404
        # a keep-alive connection left open must not stop close()
        idle = _connection(server, "mail.other.test", context)
        idle.request("GET", "/")
        idle.getresponse().read()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)
    idle.close()
