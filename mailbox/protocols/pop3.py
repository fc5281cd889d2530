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

from mailbox.protocols import connection, net
from mailbox.protocols.errors import (
    AuthFailed,
    ConnectFailed,
    MailProtocolError,
    ProtocolFailure,
    TimedOut,
    TlsUnavailable,
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
    """Signs in with USER/PASS; AuthFailed carries the server's own words.

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
        client.user(credentials.username)  # a server refusing plain text says so here
        client.pass_(credentials.password)
    except poplib.error_proto as exc:
        if _is_server_reply(exc):
            return AuthFailed(host, redact(_words(exc), credentials.password))
        return ProtocolFailure(host, port, "the connection broke during sign-in")
    except TimeoutError:
        return TimedOut(host, port)
    except OSError as exc:
        return ConnectFailed(host, port, exc.strerror or type(exc).__name__)
    except Exception as exc:  # whatever it is, its traceback holds the password: don't chain
        logger.warning("unexpected %s while signing in to %s", type(exc).__name__, host)
        return ProtocolFailure(host, port, f"unexpected {type(exc).__name__} during sign-in")
    return None


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
