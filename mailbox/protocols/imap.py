"""IMAP connections on IMAPClient, made through the policy-checked `net` layer.

IMAPClient opens its own socket; its seam is `_create_IMAP4()`, which `ImapClient` overrides
to return an imaplib connection whose `_create_socket()` is `net.connect_server()` (the
checked address; `net.wrap()` for implicit TLS). STARTTLS is IMAPClient's `starttls()` with a
context from `net.tls_context()` (host name checked), then the pinned fingerprint is checked.

    with imap.session(server, credentials, policy, pinned_fingerprint) as client:
        client.list_folders()

or `connect()`, `login()` and `close()` one by one.
"""

import imaplib
import logging
import socket
import ssl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

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

NetArgs = tuple[Server, NetworkPolicy, ssl.SSLContext, str | None]


class _IMAP4(imaplib.IMAP4):
    """imaplib's connection with its socket from `net` (IMAPClient's IMAP4_TLS, checked)."""

    def __init__(self, net_args: NetArgs) -> None:
        self._net_args = net_args
        server, policy = net_args[0], net_args[1]
        super().__init__(server.host, server.port, timeout=policy.timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return net.connect_server(*self._net_args)


class ImapClient(IMAPClient):
    """An IMAPClient connected to an address `net` checked; made by `connect()`."""

    def __init__(
        self,
        server: Server,
        policy: NetworkPolicy,
        context: ssl.SSLContext,
        pinned: str | None,
    ) -> None:
        self.endpoint = server
        # Extensions ENABLEd on this connection (imap_folders.select does it once, before
        # the first SELECT, since ENABLE is only legal then); None until tried.
        self.enabled: frozenset[str] | None = None
        self._net_args: NetArgs = (server, policy, context, pinned)
        super().__init__(
            server.host,
            server.port,
            ssl=server.security is Security.TLS,
            ssl_context=context,
            timeout=policy.timeout,
        )
        # IMAPClient sets imaplib's debug level to 5, at which imaplib formats the repr() of
        # every reply, literals included, before its logger drops the line: a fifth of a first
        # sync's fetching went into repr() of message bodies nobody logs.
        if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
            self._imap.debug = 0

    def _create_IMAP4(self) -> imaplib.IMAP4:  # noqa: N802 (IMAPClient's name)
        return _IMAP4(self._net_args)


@contextmanager
def _errors(server: Server) -> Iterator[None]:
    """Library and socket failures as typed errors; never used around LOGIN (see login())."""
    try:
        yield
    except imaplib.IMAP4.error as exc:  # abort (broken connection, not IMAP) or BAD/NO
        raise ProtocolFailure(server.host, server.port, str(exc)) from exc
    except TimeoutError as exc:
        raise TimedOut(server.host, server.port) from exc
    except OSError as exc:
        raise ConnectFailed(server.host, server.port, exc.strerror or str(exc)) from exc


def connect(
    server: Server, policy: NetworkPolicy, pinned_fingerprint: str | None = None
) -> ImapClient:
    """A connection encrypted as `server.security` says, not signed in yet.

    Raises the typed errors of `errors.py`; CertificateUntrusted carries the fingerprint of
    the certificate the server presented.
    """
    return connection.connect(_steps(), server, policy, pinned_fingerprint)


def _open(
    server: Server, policy: NetworkPolicy, context: ssl.SSLContext, pinned: str | None
) -> ImapClient:
    with _errors(server):
        client = ImapClient(server, policy, context, pinned)
    if server.security is Security.STARTTLS:
        try:
            _start_tls(client, context, pinned)
        except BaseException:
            abandon(client)
            raise
    return client


def _start_tls(client: ImapClient, context: ssl.SSLContext, pinned: str | None) -> None:
    server = client.endpoint
    with _errors(server):
        offered = client.has_capability("STARTTLS")
    if not offered:
        raise TlsUnavailable(server.host, server.port)
    with _errors(server), net.tls_errors(server.host, server.port):
        client.starttls(context)
    net.check_pinned(client.socket(), server.host, server.port, pinned)


def login(client: ImapClient, credentials: Credentials) -> None:
    """Signs in; AuthFailed carries the server's own words, TokenRejected when the server
    refused an OAuth access token (AUTHENTICATE OAUTHBEARER or XOAUTH2).

    IMAPClient's and imaplib's frames hold the password or token (IMAPClient.login's
    `password`, imaplib's command line), and an exception raised there keeps them in its
    traceback. So a failure is turned into a typed error *returned* from the `except` block and
    raised here, outside it: the raised error has neither `__cause__` nor `__context__` (`from
    None` would only hide `__context__`, which some traceback walkers still follow), so no debug
    page or error tracker walks into those frames.
    """
    failure = _attempt_login(client, credentials)
    if failure is not None:
        raise failure


def _attempt_login(client: ImapClient, credentials: Credentials) -> MailProtocolError | None:
    host, port = client.endpoint.host, client.endpoint.port
    try:
        refusal = _refusal_before_sign_in(client, credentials)
        if refusal is not None:
            return AuthFailed(host, refusal)
        with _library_log_silenced(client):
            _sign_in(client, credentials)
    except LoginError as exc:
        if isinstance(exc.__context__, imaplib.IMAP4.abort | OSError):
            return ProtocolFailure(host, port, "the connection broke during sign-in")
        return _refused(host, _server_words(exc), credentials)
    except TimeoutError:
        return TimedOut(host, port)
    except imaplib.IMAP4.error:
        return ProtocolFailure(host, port, "the connection broke during sign-in")
    except OSError as exc:
        return ConnectFailed(host, port, exc.strerror or type(exc).__name__)
    except Exception as exc:  # whatever it is, its traceback holds the password: don't chain
        logger.warning("unexpected %s while signing in to %s", type(exc).__name__, host)
        return ProtocolFailure(host, port, f"unexpected {type(exc).__name__} during sign-in")
    return None


def _refusal_before_sign_in(client: ImapClient, credentials: Credentials) -> str | None:
    """Why nothing may be sent, or None."""
    if credentials.oauth_token is not None:
        if _oauth_mechanism(client) is None:
            return "the server offers no OAuth sign-in (OAUTHBEARER or XOAUTH2)"
        return None
    if client.has_capability("LOGINDISABLED"):  # RFC 3501: never send LOGIN then
        return "LOGINDISABLED: passwords only over an encrypted connection"
    return None


def _oauth_mechanism(client: ImapClient) -> str | None:
    offered = [name for name in sasl_oauth.MECHANISMS if client.has_capability(f"AUTH={name}")]
    return sasl_oauth.choose_mechanism(offered)


def _sign_in(client: ImapClient, credentials: Credentials) -> None:
    token, server = credentials.oauth_token, client.endpoint
    if token is not None:
        mechanism = _oauth_mechanism(client) or sasl_oauth.XOAUTH2  # None was refused before
        answer = sasl_oauth.exchange(
            mechanism, credentials.username, token, server.host, server.port
        )
        client.sasl_login(mechanism, answer)
    elif credentials.username.isascii() and credentials.password.isascii():
        client.login(credentials.username, credentials.password)
    else:  # LOGIN takes ASCII quoted strings only; AUTHENTICATE PLAIN carries UTF-8
        client.plain_login(credentials.username, credentials.password)


def _refused(host: str, words: str, credentials: Credentials) -> AuthFailed:
    token = credentials.oauth_token
    if token is None:
        return AuthFailed(host, redact(words, credentials.password))
    words = redact(words, token)
    # [UNAVAILABLE] (RFC 5530): the server could not check the token now; a new one won't help.
    if "[UNAVAILABLE]" in words.upper():
        return AuthFailed(host, words)
    return TokenRejected(host, words)


@contextmanager
def _library_log_silenced(client: ImapClient) -> Iterator[None]:
    """IMAPClient sends imaplib's debug output to the "imapclient.imaplib" logger through this
    connection's `_imap._mesg` (its own hook); it masks our LOGIN line but prints the server's
    replies verbatim, so a server echoing that line would log the password. Mute this one
    connection while signing in; the refusal itself reaches the caller in AuthFailed."""
    imap4 = client._imap
    saved, imap4._mesg = imap4._mesg, _discard
    try:
        yield
    finally:
        imap4._mesg = saved


def _discard(*message: object) -> None:
    """Drops an imaplib debug message."""


def _server_words(exc: LoginError) -> str:
    """The server's reply: imaplib raises error(<reply>) for a NO to LOGIN or AUTHENTICATE,
    and IMAPClient wraps it into LoginError(str(that error))."""
    cause = exc.__context__
    reply = cause.args[0] if cause is not None and cause.args else str(exc)
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def capabilities(client: ImapClient) -> frozenset[str]:
    """The capabilities the server advertises now (after sign-in they often grow)."""
    with _errors(client.endpoint):
        return frozenset(name.decode("ascii", "replace").upper() for name in client.capabilities())


def close(client: ImapClient) -> None:
    """Logs out; a connection that is already broken is just dropped. Never raises."""
    try:
        client.logout()
    except Exception:  # the server went away or misbehaved: nothing left to say to it
        abandon(client)


def abandon(client: ImapClient) -> None:
    """Hangs up without LOGOUT: after a failure, don't wait on a server that may not answer."""
    with suppress(Exception):
        client.shutdown()


def session(
    server: Server,
    credentials: Credentials,
    policy: NetworkPolicy,
    pinned_fingerprint: str | None = None,
) -> AbstractContextManager[ImapClient]:
    """A signed-in connection, logged out at the end."""
    return connection.session(_steps(), server, credentials, policy, pinned_fingerprint)


def _steps() -> connection.Steps[ImapClient]:
    return connection.Steps(
        open=_open,
        peer_certificate=lambda client: client.socket().getpeercert(binary_form=True),
        login=login,
        close=close,
        abandon=abandon,
    )
