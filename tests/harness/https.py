"""A local HTTPS (and optionally plain HTTP) server answering routes the test sets.

By default it listens on STANDARD_HOST:443 (127.0.x.2, one per test run), so that the
product's autoconfig lookups
(`https://autoconfig.<domain>/mail/config-v1.1.xml`,
`https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`) reach it on the standard port
once the local DNS server resolves those names to that address. Its certificate is signed by the
test CA, so clients keep verification on. Routes are keyed by (Host without port, path).
"""

import contextlib
import secrets
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.harness.certs import TestCA
from tests.harness.ports import STANDARD_HOST

DEFAULT_HOST = STANDARD_HOST
BASE_NAMES = (
    "*.example.test",
    "example.test",
    "autoconfig.example.test",
    "localhost",
    "127.0.0.1",
    STANDARD_HOST,
)
ANY = "*"  # matches any host or scheme in route()
CONNECTION_TIMEOUT = 10.0  # seconds an idle keep-alive connection or a TLS handshake may take


@dataclass(frozen=True)
class Route:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class HttpRequest:
    scheme: str  # "https" or "http"
    method: str
    host: str  # the Host header, lower case, without the port
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes


NOT_FOUND = Route(404, b"not found\n", "text/plain; charset=utf-8")


def _host_without_port(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:443
        return host[1 : host.index("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Listener"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        request = HttpRequest(
            scheme=self.server.scheme,
            method=self.command,
            host=_host_without_port(self.headers.get("Host", "")),
            path=target.path,
            query=target.query,
            headers=dict(self.headers.items()),
            body=body,
        )
        route = owner._handle(request)
        if route.delay and owner._stopping.wait(route.delay):
            self.close_connection = True
            return  # shutting down: hang up instead of answering
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(route.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        pass  # requests are recorded; stderr stays quiet


class _Listener(ThreadingHTTPServer):
    """One listening socket; wraps connections in TLS inside their own thread (not accept's)."""

    daemon_threads = True
    block_on_close = False  # we join our own threads in close()

    def __init__(self, owner: "LocalHttpsServer", address: tuple[str, int], scheme: str) -> None:
        self.owner = owner
        self.scheme = scheme
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner._spawn(self.process_request_thread, request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn: socket.socket = request
        conn.settimeout(CONNECTION_TIMEOUT)
        self.owner._track(conn)
        try:
            if self.scheme == "https":
                conn = self.owner._ssl_context.wrap_socket(conn, server_side=True)
                self.owner._track(conn)
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            self.owner._untrack(request, conn)
            if conn is not request:  # the TLS socket took over the descriptor
                conn.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind would reverse-resolve the address (slow when offline).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Handshake failures (a client that rejects our certificate) are expected in tests.
        self.owner._record_error(repr(sys.exc_info()[1]))


class LocalHttpsServer:
    """Threaded HTTPS server on `host:port` (STANDARD_HOST:443 unless told otherwise).

    `port=0` picks a free port; `http_port` adds a plain-HTTP listener on the same host
    (80 for autoconfig-over-HTTP tests, 0 for a free one) that serves the same routes.
    """

    def __init__(
        self,
        ca: TestCA,
        names: Iterable[str] = (),
        host: str = DEFAULT_HOST,
        port: int = 443,
        http_port: int | None = None,
    ) -> None:
        self.ca = ca
        self.host = host
        self.port = port
        self.http_port = http_port
        self._names = tuple(dict.fromkeys((*BASE_NAMES, *names)))
        self._ssl_context = self._make_context()
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str, str], Route] = {}
        self._requests: list[HttpRequest] = []
        self._errors: list[str] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._live: set[socket.socket] = set()
        self._listeners: list[_Listener] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "LocalHttpsServer":
        listeners = [_Listener(self, (self.host, self.port), "https")]
        if self.http_port is not None:
            try:
                listeners.append(_Listener(self, (self.host, self.http_port), "http"))
            except OSError:
                listeners[0].server_close()
                raise
        self._listeners = listeners
        self.port = listeners[0].server_address[1]
        if self.http_port is not None:
            self.http_port = listeners[1].server_address[1]
        for listener in listeners:
            self._spawn(listener.serve_forever, 0.05)
        return self

    def close(self) -> None:
        self._stopping.set()
        for listener in self._listeners:
            listener.shutdown()
        with self._lock:
            live = list(self._live)
        for conn in live:
            _shutdown(conn)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)
        for listener in self._listeners:
            listener.server_close()
        self._listeners = []

    def __enter__(self) -> "LocalHttpsServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _make_context(self) -> ssl.SSLContext:
        files = self.ca.issue(f"https-{secrets.token_hex(4)}", self._names)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.cert, files.key)
        return context

    def add_names(self, *names: str) -> None:
        """Re-issues the certificate so it also covers `names` (for new connections)."""
        self._names = tuple(dict.fromkeys((*self._names, *names)))
        self._ssl_context = self._make_context()

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._live.add(conn)

    def _record_error(self, error: str) -> None:
        with self._lock:
            self._errors.append(error)

    def _untrack(self, *conns: socket.socket) -> None:
        with self._lock:
            for conn in conns:
                self._live.discard(conn)

    # -- routes ------------------------------------------------------------------------------

    def route(
        self,
        host: str,
        path: str,
        body: bytes,
        status: int = 200,
        content_type: str = "text/xml; charset=utf-8",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        scheme: str = ANY,
    ) -> None:
        """Serves `body` for (host, path); host or scheme "*" match any. `delay` is in seconds."""
        route = Route(status, body, content_type, dict(headers or {}), delay)
        with self._lock:
            self._routes[(scheme, host.lower(), path)] = route

    def redirect(
        self, host: str, path: str, location: str, status: int = 302, scheme: str = ANY
    ) -> None:
        self.route(host, path, b"", status, "text/plain", {"Location": location}, scheme=scheme)

    def clear(self) -> None:
        """Forgets routes and recorded requests."""
        with self._lock:
            self._routes.clear()
            self._requests.clear()
            self._errors.clear()

    @property
    def requests(self) -> list[HttpRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Connection-level failures, e.g. a client that rejected the certificate."""
        with self._lock:
            return list(self._errors)

    def url(self, host: str, path: str = "/", scheme: str = "https") -> str:
        """The URL a client would use, with the port only when it is not the standard one."""
        port = self.port if scheme == "https" else self.http_port
        standard = {"https": 443, "http": 80}[scheme]
        return f"{scheme}://{host}{'' if port == standard else f':{port}'}{path}"

    def _handle(self, request: HttpRequest) -> Route:
        with self._lock:
            self._requests.append(request)
            for key in (
                (request.scheme, request.host, request.path),
                (ANY, request.host, request.path),
                (request.scheme, ANY, request.path),
                (ANY, ANY, request.path),
            ):
                if key in self._routes:
                    return self._routes[key]
        return NOT_FOUND


def _shutdown(conn: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: the latter drops the TLS state under
    # the feet of the thread that is reading.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(conn, socket.SHUT_RDWR)
