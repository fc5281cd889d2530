"""The authorisation and token endpoints of a local OAuth 2.0 provider, over HTTPS.

It stands in for Google or Microsoft: `/authorize` consents at once (as the `login_hint`, or
as `consent_as`) and redirects to the client's redirect URI with a code and the state, or, with
`ask_consent`, first answers a consent page whose Allow and Deny buttons POST back to
`/authorize` (Deny redirects with error=access_denied and the state); `/token`
exchanges a code (checking the client, the redirect URI and the PKCE S256 verifier) or a
refresh token for an access token that `tokens` (tests/harness/oauth_server.py) issued, so the
test Dovecot accepts it too.

    server = AuthorizationServer(tokens, test_ca).start()
    settings.OAUTH_PROVIDERS_FILE = server.data_file(tmp_path / "providers.json")
    server.token_requests  # every form POSTed to /token, for assertions
    server.revoke_refresh_tokens_of("alice@example.test")  # next refresh: invalid_grant
    server.ask_consent = True  # a person (a browser test) clicks Allow or Deny

Its certificate comes from the test CA, which the product trusts through SSL_CERT_FILE.
"""

import base64
import hashlib
import html
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.harness.certs import TestCA
from tests.harness.oauth_server import JsonHandler, OAuthServer, serve_in_background, stop_serving

CLIENT_ID = "webmail-test-client"
CLIENT_SECRET = "webmail-test-secret"


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    username: str
    openid: bool = False  # the "openid" scope was asked for: the tokens include an ID token
    used: bool = False


@dataclass
class _Refresh:
    username: str
    revoked: bool = False


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class AuthorizationServer:
    """Listens on a free port of `host` once started; thread-safe."""

    def __init__(self, tokens: OAuthServer, ca: TestCA, host: str = "127.0.0.1") -> None:
        self.tokens = tokens
        self.host = host
        self.consent_as: str | None = None  # sign in as this user whatever the login_hint
        self.ask_consent = False  # GET /authorize answers a consent page instead of a code
        self.access_lifetime = 3600.0  # seconds, for new access tokens
        self.token_delay = 0.0  # seconds /token waits before answering (concurrency tests)
        self.rotate_refresh_tokens = False  # a refresh also answers a new refresh token
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._lock = threading.Lock()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        files = ca.issue(f"oauth-{secrets.token_hex(4)}")
        self._context.load_cert_chain(files.cert, files.key)
        self._http: _TlsServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "AuthorizationServer":
        self._http = _TlsServer((self.host, 0), _handler_for(self), self._context)
        self._thread = serve_in_background(self._http)
        return self

    def stop(self) -> None:
        stop_serving(self._http, self._thread)

    def reset(self) -> None:
        """Forgets recorded requests and options (codes and refresh tokens stay valid)."""
        with self._lock:
            self.authorize_requests.clear()
            self.token_requests.clear()
        self.consent_as, self.access_lifetime, self.token_delay = None, 3600.0, 0.0
        self.rotate_refresh_tokens = self.ask_consent = False

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the authorization server was never started")
        return f"https://{self.host}:{self._http.server_port}"

    def data_file(self, path: Path) -> Path:
        """A provider data file whose Google and Microsoft entries point here."""
        entries = {
            key: {
                "name": name,
                "authorization_endpoint": f"{self.base_url}/{key}/authorize",
                "token_endpoint": f"{self.base_url}/{key}/token",
                "scopes": scopes,
                "authorization_params": params,
                "client_id_setting": f"OAUTH_{key.upper()}_CLIENT_ID",
                "client_secret_setting": f"OAUTH_{key.upper()}_CLIENT_SECRET",
            }
            for key, name, scopes, params in (
                (
                    "google",
                    "Google",
                    ["https://mail.google.com/", "openid", "email"],
                    {"access_type": "offline"},
                ),
                ("microsoft", "Microsoft", ["offline_access", "IMAP.AccessAsUser.All"], {}),
            )
        }
        path.write_text(json.dumps({"oauth": entries}), encoding="utf-8")
        return path

    # -- grants ------------------------------------------------------------------------------

    def issue_refresh_token(self, username: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[token] = _Refresh(username.lower())
        return token

    def revoke_refresh_tokens_of(self, username: str) -> None:
        with self._lock:
            for grant in self._refresh.values():
                if grant.username == username.lower():
                    grant.revoked = True

    def authorize(self, query: dict[str, str], path: str) -> tuple[int, dict[str, str]]:
        """GET /authorize: (302, Location) to the redirect URI, (200, html) the consent page
        when `ask_consent`, or (400, reason)."""
        with self._lock:
            self.authorize_requests.append(dict(query))
        problem = _refusal(query)
        if problem:
            return 400, {"reason": problem}
        if self.ask_consent:
            return 200, {"html": self._consent_page(query, path)}
        return 302, {"Location": self._grant(query)}

    def answer_consent(self, form: dict[str, str]) -> tuple[int, dict[str, str]]:
        """POST /authorize, the consent page's form: Allow grants as GET does without
        `ask_consent`; Deny answers access_denied (RFC 6749 4.1.2.1)."""
        query = {key: value for key, value in form.items() if key != "answer"}
        problem = _refusal(query)  # the hidden fields came back through the browser
        if problem:
            return 400, {"reason": problem}
        if form.get("answer") == "allow":
            return 302, {"Location": self._grant(query)}
        answer = urlencode({"error": "access_denied", "state": query.get("state", "")})
        return 302, {"Location": f"{query['redirect_uri']}?{answer}"}

    def _username(self, query: dict[str, str]) -> str:
        return (self.consent_as or query.get("login_hint", "")).lower()

    def _grant(self, query: dict[str, str]) -> str:
        """Issues a code for the request; the redirect URI's URL carrying it and the state."""
        code = secrets.token_urlsafe(24)
        redirect_uri = query["redirect_uri"]
        with self._lock:
            self._codes[code] = _Code(
                CLIENT_ID,
                redirect_uri,
                query.get("code_challenge", ""),
                self._username(query),
                openid="openid" in query.get("scope", "").split(),
            )
        answer = urlencode({"code": code, "state": query.get("state", "")})
        return f"{redirect_uri}?{answer}"

    def _consent_page(self, query: dict[str, str], path: str) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
            for key, value in query.items()
        )
        who = html.escape(self._username(query))
        return (
            "<!doctype html><html><head><title>Consent</title></head><body>"
            f"<p>{html.escape(query['client_id'])} wants to read and send mail as {who}</p>"
            f'<form method="post" action="{html.escape(path)}">{hidden}'
            '<button name="answer" value="allow">Allow</button>'
            '<button name="answer" value="deny">Deny</button>'
            "</form></body></html>"
        )

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """/token: (200, tokens) or (4xx, an RFC 6749 5.2 error)."""
        with self._lock:
            self.token_requests.append(dict(form))
        if self.token_delay:
            time.sleep(self.token_delay)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        grant_type, openid = form.get("grant_type"), False
        if grant_type == "authorization_code":
            code = self._redeem_code(form)
            username, openid = (code.username, code.openid) if code else (None, False)
        elif grant_type == "refresh_token":
            username = self._redeem_refresh(form.get("refresh_token", ""))
        else:
            return 400, {"error": "unsupported_grant_type"}
        if username is None:
            return 400, {"error": "invalid_grant", "error_description": "bad code or token"}
        body = self._tokens_for(username, with_refresh=grant_type == "authorization_code")
        if openid:
            body["id_token"] = self._id_token(username)
        return 200, body

    def _id_token(self, username: str) -> str:
        """An OpenID Connect ID token naming the account that consented (unsigned: the client
        takes it straight from this endpoint over TLS, as OIDC Core 3.1.3.7 allows)."""
        claims = {
            "iss": self.base_url,
            "aud": CLIENT_ID,
            "sub": hashlib.sha256(username.encode()).hexdigest()[:20],
            "email": username,
            "email_verified": True,
            "iat": int(time.time()),
            "exp": int(time.time()) + 3600,
        }
        parts = [{"alg": "none", "typ": "JWT"}, claims]
        encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in parts]
        return b".".join([*encoded, b""]).decode("ascii")

    def _redeem_code(self, form: dict[str, str]) -> _Code | None:
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used:
                return None
            code.used = True
        verifier = form.get("code_verifier", "")
        if form.get("redirect_uri") != code.redirect_uri or _s256(verifier) != code.challenge:
            return None
        return code

    def _redeem_refresh(self, token: str) -> str | None:
        with self._lock:
            grant = self._refresh.get(token)
            return grant.username if grant is not None and not grant.revoked else None

    def _tokens_for(self, username: str, *, with_refresh: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.tokens.issue(username, self.access_lifetime),
            "token_type": "Bearer",
            "expires_in": int(self.access_lifetime),
        }
        if with_refresh or self.rotate_refresh_tokens:
            body["refresh_token"] = self.issue_refresh_token(username)
        return body


def _refusal(query: dict[str, str]) -> str:
    """Why an authorisation request is refused ("" when it is not)."""
    if query.get("client_id") != CLIENT_ID or not query.get("redirect_uri", "").startswith("http"):
        return "unknown client or redirect URI"
    if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
        return "only the code flow with PKCE S256"
    return ""


class _TlsServer(ThreadingHTTPServer):
    """TLS handshakes run in each request's thread, so a stalled client blocks nobody."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)
        with self.context.wrap_socket(request, server_side=True) as tls:
            self.RequestHandlerClass(tls, client_address, self)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client refusing the certificate is a test's business, not noise."""


def _handler_for(server: AuthorizationServer) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            target = urlsplit(self.path)
            if not target.path.endswith("/authorize"):
                self._answer(404, {"error": "not_found"})
                return
            query = {k: v[0] for k, v in parse_qs(target.query).items()}
            self._reply(*server.authorize(query, target.path))

        def do_POST(self) -> None:  # noqa: N802
            form = {k: v[0] for k, v in self.form().items()}
            path = urlsplit(self.path).path
            if path.endswith("/authorize"):
                self._reply(*server.answer_consent(form))
            elif path.endswith("/token"):
                self._answer(*server.token(form))
            else:
                self._answer(404, {"error": "not_found"})

        def _reply(self, status: int, answer: dict[str, str]) -> None:
            """A redirect, the consent page, or a JSON refusal."""
            if status == 302:
                self.send_response(302)
                self.send_header("Location", answer["Location"])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif status == 200:
                page = answer["html"].encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
            else:
                self._answer(status, answer)

    return Handler
