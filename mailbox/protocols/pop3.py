"""POP3 connections on poplib, made through the policy-checked `net` layer.

`Pop3Client` overrides poplib's `_create_socket()` with `net.connect_server()` (the checked
address; `net.wrap()` for implicit TLS); STARTTLS is poplib's `stls()` with a context from
`net.tls_context()`, then the pinned fingerprint is checked.

    with pop3.session(server, credentials, policy, pinned_fingerprint) as client:
        client.uidl()
"""

import logging
import poplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

from mailbox.protocols import connection, net, sasl_oauth
from mailbox.protocols.errors import (
    AuthFailed,
    ConnectFailed,
    MailProtocolError,
    ProtocolFailure,
    TimedOut,
    TlsUnavailable,
    TokenRejected,
    redact,
)
from mailbox.protocols.types import Credentials, NetworkPolicy, Security, Server

logger = logging.getLogger(__name__)


class Pop3Client(poplib.POP3):
    """poplib's POP3 connected to an address `net` checked; made by `connect()`."""

    def __init__(
        self,
        server: Server,
        policy: NetworkPolicy,
        context: ssl.SSLContext,
        pinned: str | None,
    ) -> None:
        self.endpoint = server
        self._net_args = (server, policy, context, pinned)
        self.sock = self.file = None
        try:
            super().__init__(server.host, server.port, timeout=policy.timeout)
        except BaseException:
            self.close()  # poplib leaves the socket open when the greeting is not +OK
            raise

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return net.connect_server(*self._net_args)


def _is_server_reply(exc: BaseException | None) -> bool:
    """poplib raises error_proto(<the -ERR line as bytes>) for the server's refusals and
    error_proto(<str>) for its own findings (connection closed, line too long)."""
    return isinstance(exc, poplib.error_proto) and isinstance(exc.args[0], bytes)


def _words(exc: BaseException | None) -> str:
    """The server's words without "-ERR", or poplib's own message."""
    reply = exc.args[0] if exc is not None and exc.args else ""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return text.removeprefix("-ERR").strip()


@contextmanager
def _errors(server: Server) -> Iterator[None]:
    """Library and socket failures as typed errors; never used around PASS (see login())."""
    try:
        yield
    except poplib.error_proto as exc:
        raise ProtocolFailure(server.host, server.port, _words(exc)) from exc
    except UnicodeError as exc:  # CAPA lines are parsed as ASCII
        raise ProtocolFailure(server.host, server.port, "a reply is not text") from exc
    except TimeoutError as exc:
        raise TimedOut(server.host, server.port) from exc
    except OSError as exc:
        raise ConnectFailed(server.host, server.port, exc.strerror or str(exc)) from exc


def connect(
    server: Server, policy: NetworkPolicy, pinned_fingerprint: str | None = None
) -> Pop3Client:
    """A connection encrypted as `server.security` says, not signed in yet.

    Raises the typed errors of `errors.py`; CertificateUntrusted carries the fingerprint of
    the certificate the server presented.
    """
    return connection.connect(_steps(), server, policy, pinned_fingerprint)


def _open(
    server: Server, policy: NetworkPolicy, context: ssl.SSLContext, pinned: str | None
) -> Pop3Client:
    with _errors(server):
        client = Pop3Client(server, policy, context, pinned)
    if server.security is Security.STARTTLS:
        try:
            _start_tls(client, context, pinned)
        except BaseException:
            abandon(client)
            raise
    return client


def _start_tls(client: Pop3Client, context: ssl.SSLContext, pinned: str | None) -> None:
    server = client.endpoint
    if "STLS" not in capabilities(client):
        raise TlsUnavailable(server.host, server.port)
    with _errors(server), net.tls_errors(server.host, server.port):
        client.stls(context)
    net.check_pinned(client.sock, server.host, server.port, pinned)  # type: ignore[arg-type]


def capabilities(client: Pop3Client) -> frozenset[str]:
    """CAPA's names (RFC 2449); empty when the server does not know CAPA."""
    server = client.endpoint
    with _errors(server):
        try:
            names = client.capa()
        except poplib.error_proto as exc:
            # capa() reports every failure as "CAPA not supported": the real one is its context
            if not _is_server_reply(exc.__context__):
                raise ProtocolFailure(server.host, server.port, _words(exc.__context__)) from exc
            names = {}
    return frozenset(name.upper() for name in names)


def login(client: Pop3Client, credentials: Credentials) -> None:
    """Signs in with USER/PASS, or AUTH OAUTHBEARER/XOAUTH2 when the credentials hold an
    OAuth access token; AuthFailed carries the server's own words, TokenRejected when the
    server refused the token.

    poplib's frames hold the password (pass_'s `pswd`, the command line), and an exception
    raised there keeps them in its traceback. So a failure becomes a typed error *returned*
    from the `except` block and raised here, outside it: no `__cause__`, no `__context__`
    (`from None` would only hide `__context__`), so nothing walks into those frames.
    """
    failure = _attempt_login(client, credentials)
    if failure is not None:
        raise failure


def _attempt_login(client: Pop3Client, credentials: Credentials) -> MailProtocolError | None:
    host, port = client.endpoint.host, client.endpoint.port
    try:
        if credentials.oauth_token is not None:
            return _authenticate_oauth(client, credentials.username, credentials.oauth_token)
        client.user(credentials.username)  # a server refusing plain text says so here
        client.pass_(credentials.password)
    except poplib.error_proto as exc:
        if _is_server_reply(exc):
            return _refused(host, _words(exc), credentials)
        return ProtocolFailure(host, port, "the connection broke during sign-in")
    except TimeoutError:
        return TimedOut(host, port)
    except OSError as exc:
        return ConnectFailed(host, port, exc.strerror or type(exc).__name__)
    except Exception as exc:  # whatever it is, its traceback holds the password: don't chain
        logger.warning("unexpected %s while signing in to %s", type(exc).__name__, host)
        return ProtocolFailure(host, port, f"unexpected {type(exc).__name__} during sign-in")
    return None


def _authenticate_oauth(client: Pop3Client, user: str, token: str) -> MailProtocolError | None:
    """AUTH OAUTHBEARER or XOAUTH2 (RFC 5034) without an initial response on the AUTH line,
    which must stay under 255 octets (a token is longer): the token answers the server's
    first "+ ", and an error challenge ("+ <base64>") gets the closing line before the -ERR."""
    host, port = client.endpoint.host, client.endpoint.port
    mechanism = sasl_oauth.choose_mechanism(_sasl_mechanisms(client))
    if mechanism is None:
        return AuthFailed(host, "the server offers no OAuth sign-in (SASL)")
    answer = sasl_oauth.exchange(mechanism, user, token, host, port)
    # poplib has no AUTH: one-line commands through its own helper, as its methods do.
    reply = client._shortcmd(f"AUTH {mechanism}")
    for _ in range(2):  # the token, then the closing line after an error challenge
        if not _is_challenge(reply):
            return None
        reply = client._shortcmd(sasl_oauth.encoded(answer(sasl_oauth.decoded(reply[2:]))))
    return ProtocolFailure(host, port, "the server kept asking during sign-in")


def _is_challenge(reply: bytes) -> bool:
    return reply.startswith(b"+ ") or reply == b"+"


def _sasl_mechanisms(client: Pop3Client) -> list[str]:
    try:
        return client.capa().get("SASL", [])
    except poplib.error_proto:  # no CAPA (or a broken one): no SASL we can see
        return []


def _refused(host: str, words: str, credentials: Credentials) -> AuthFailed:
    token = credentials.oauth_token
    if token is None:
        return AuthFailed(host, redact(words, credentials.password))
    words = redact(words, token)
    # [SYS/TEMP], [SYS/PERM], [IN-USE] (RFC 3206, 2449): the server's trouble, not the token's.
    if words.upper().startswith(("[SYS/", "[IN-USE]")):
        return AuthFailed(host, words)
    return TokenRejected(host, words)


def close(client: Pop3Client) -> None:
    """QUIT; a connection that is already broken is just dropped. Never raises."""
    try:
        client.quit()
    except Exception:  # the server went away or misbehaved: nothing left to say to it
        abandon(client)


def abandon(client: Pop3Client) -> None:
    """Hangs up without QUIT: after a failure, don't wait on a server that may not answer."""
    with suppress(Exception):
        client.close()


def session(
    server: Server,
    credentials: Credentials,
    policy: NetworkPolicy,
    pinned_fingerprint: str | None = None,
) -> AbstractContextManager[Pop3Client]:
    """A signed-in connection, closed with QUIT at the end."""
    return connection.session(_steps(), server, credentials, policy, pinned_fingerprint)


def _steps() -> connection.Steps[Pop3Client]:
    return connection.Steps(
        open=_open,
        peer_certificate=lambda client: client.sock.getpeercert(binary_form=True),  # type: ignore[attr-defined]
        login=login,
        close=close,
        abandon=abandon,
    )
