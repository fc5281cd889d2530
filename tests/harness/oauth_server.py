"""A tiny OAuth 2.0 authorization server for the tests: it issues access tokens and answers
token introspection (RFC 7662), which is how the test Dovecot's `oauth2` passdb checks them.

    tokens = OAuthServer().start()
    token = tokens.issue("alice@example.test")
    tokens.revoke(token)  # or tokens.expire(token): both answer {"active": false} from then on
    tokens.stop()

Introspection is `POST /introspect` with the form field `token`; an active token answers
{"active": true, "username": ..., "scope": "mail", "exp": ...}, anything else
{"active": false}. Plain HTTP on loopback: the token only travels from Dovecot to here.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

INTROSPECTION_PATH = "/introspect"


@dataclass
class _Grant:
    username: str
    expires_at: float
    revoked: bool = False

    def is_active(self) -> bool:
        return not self.revoked and time.time() < self.expires_at


class OAuthServer:
    """Listens on a free port of `host` once started; thread-safe."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.introspections = 0  # how many questions were answered, for assertions
        self.failing = False  # when True, introspection answers 503 (the server is down)
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def introspection_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the OAuth server was never started")
        return f"http://{self.host}:{self._http.server_port}{INTROSPECTION_PATH}"

    def start(self) -> "OAuthServer":
        self._http = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        self._thread = serve_in_background(self._http)
        return self

    def stop(self) -> None:
        stop_serving(self._http, self._thread)

    def issue(self, username: str, lifetime: float = 3600.0) -> str:
        """A new access token for `username`, valid for `lifetime` seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = _Grant(username.lower(), time.time() + lifetime)
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._grants[token].revoked = True

    def expire(self, token: str) -> None:
        with self._lock:
            self._grants[token].expires_at = time.time() - 1

    def introspect(self, token: str) -> dict[str, object]:
        """RFC 7662 2.2's answer for `token`."""
        with self._lock:
            self.introspections += 1
            grant = self._grants.get(token)
            if grant is None or not grant.is_active():
                return {"active": False}
            return {
                "active": True,
                "username": grant.username,
                "scope": "mail",
                "token_type": "Bearer",
                "exp": int(grant.expires_at),
            }


class JsonHandler(BaseHTTPRequestHandler):
    """A test server's handler answering JSON, quietly: request lines of OAuth endpoints may
    hold a state or a challenge, and the suite's output stays clean."""

    protocol_version = "HTTP/1.1"  # Dovecot's HTTP client keeps connections alive

    def form(self) -> dict[str, list[str]]:
        length = int(self.headers.get("Content-Length") or 0)
        return parse_qs(self.rfile.read(length).decode("ascii", "replace"))

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve_in_background(http: ThreadingHTTPServer) -> threading.Thread:
    """Answers requests from a daemon thread (each request in a thread of its own)."""
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    return thread


def stop_serving(http: ThreadingHTTPServer | None, thread: threading.Thread | None) -> None:
    if http is not None:
        http.shutdown()
        http.server_close()
    if thread is not None:
        thread.join(timeout=5)


def _handler_for(server: OAuthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            form = self.form()
            if self.path.split("?")[0] != INTROSPECTION_PATH:
                self._answer(404, {"error": "not_found"})
            elif server.failing:
                self._answer(503, {"error": "temporarily_unavailable"})
            else:
                self._answer(200, server.introspect((form.get("token") or [""])[0]))

    return Handler
