"""SMTP submission connections on smtplib, made through the policy-checked `net` layer.

`SmtpClient` overrides smtplib's `_get_socket()` with `net.connect_server()` (the checked
address; `net.wrap()` for implicit TLS, the 465-style port), while smtplib's `_host` stays the
host name for certificate checks; STARTTLS is smtplib's `starttls()` with a context from
`net.tls_context()`, then the pinned fingerprint is checked.

    with smtp.session(server, credentials, policy, pinned_fingerprint) as client:
        client.sendmail(...)
"""

import logging
import smtplib
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


class SmtpClient(smtplib.SMTP):
    """smtplib's SMTP connected to an address `net` checked; made by `connect()`."""

    def __init__(
        self,
        server: Server,
        policy: NetworkPolicy,
        context: ssl.SSLContext,
        pinned: str | None,
    ) -> None:
        self.endpoint = server
        self._net_args = (server, policy, context, pinned)
        # Any local_hostname stops smtplib calling socket.getfqdn() (DNS without our time
        # limit); once connected, EHLO names our side by its address (RFC 5321 4.1.3).
        super().__init__(
            server.host, server.port, local_hostname="localhost", timeout=policy.timeout
        )
        self.local_hostname = _address_literal(self.sock)

    def _get_socket(self, host: str, port: int, timeout: float | None) -> socket.socket:
        return net.connect_server(*self._net_args)


def _address_literal(sock: socket.socket) -> str:
    address = str(sock.getsockname()[0])
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {text}" if code > 0 else f"not an SMTP reply: {text}"  # smtplib's -1


def _disconnected(host: str, port: int, exc: smtplib.SMTPServerDisconnected) -> MailProtocolError:
    # smtplib reports a read that timed out as "Connection unexpectedly closed: timed out".
    if isinstance(exc.__context__, TimeoutError):
        return TimedOut(host, port)
    return ProtocolFailure(host, port, "the server closed the connection")


@contextmanager
def _errors(server: Server) -> Iterator[None]:
    """Library and socket failures as typed errors; never used around AUTH (see login())."""
    host, port = server.host, server.port
    try:
        yield
    except smtplib.SMTPServerDisconnected as exc:  # before OSError: SMTPException is one
        raise _disconnected(host, port, exc) from exc
    except smtplib.SMTPResponseException as exc:  # not 220 at the greeting, EHLO refused...
        raise ProtocolFailure(host, port, _reply(exc.smtp_code, exc.smtp_error)) from exc
    except smtplib.SMTPException as exc:
        raise ProtocolFailure(host, port, str(exc)) from exc
    except TimeoutError as exc:
        raise TimedOut(host, port) from exc
    except OSError as exc:
        raise ConnectFailed(host, port, exc.strerror or str(exc)) from exc


def connect(
    server: Server, policy: NetworkPolicy, pinned_fingerprint: str | None = None
) -> SmtpClient:
    """A connection encrypted as `server.security` says, greeted with EHLO, not signed in.

    Raises the typed errors of `errors.py`; CertificateUntrusted carries the fingerprint of
    the certificate the server presented.
    """
    return connection.connect(_steps(), server, policy, pinned_fingerprint)


def _greet_again(client: SmtpClient) -> None:
    with _errors(client.endpoint):
        client.ehlo_or_helo_if_needed()  # again after STARTTLS: RFC 3207 forgets the first


def _open(
    server: Server, policy: NetworkPolicy, context: ssl.SSLContext, pinned: str | None
) -> SmtpClient:
    with _errors(server):
        client = SmtpClient(server, policy, context, pinned)
    if server.security is Security.STARTTLS:
        try:
            _start_tls(client, context, pinned)
        except BaseException:
            abandon(client)
            raise
    return client


def _start_tls(client: SmtpClient, context: ssl.SSLContext, pinned: str | None) -> None:
    server = client.endpoint
    with _errors(server):
        client.ehlo_or_helo_if_needed()
        offered = client.has_extn("starttls")
    if not offered:
        raise TlsUnavailable(server.host, server.port)
    with _errors(server), net.tls_errors(server.host, server.port):
        client.starttls(context=context)
    net.check_pinned(client.sock, server.host, server.port, pinned)  # type: ignore[arg-type]


def login(client: SmtpClient, credentials: Credentials) -> None:
    """Signs in with AUTH; AuthFailed carries the server's reply ("535 5.7.8 ..."),
    TokenRejected when an OAuth access token was refused (AUTH OAUTHBEARER or XOAUTH2).

    smtplib's frames hold the password (login's `password`, the AUTH line), and an exception
    raised there keeps them in its traceback. So a failure becomes a typed error *returned*
    from the `except` block and raised here, outside it: no `__cause__`, no `__context__`
    (`from None` would only hide `__context__`), so nothing walks into those frames.
    """
    failure = _attempt_login(client, credentials)
    if failure is not None:
        raise failure


def _attempt_login(client: SmtpClient, credentials: Credentials) -> MailProtocolError | None:
    if credentials.oauth_token is not None:
        return _attempt_oauth(client, credentials.username, credentials.oauth_token)
    host, port = client.endpoint.host, client.endpoint.port
    secret = credentials.password
    try:
        client.login(credentials.username, credentials.password)
    except smtplib.SMTPNotSupportedError:
        return AuthFailed(host, "the server offers no sign-in (AUTH) on this connection")
    except smtplib.SMTPServerDisconnected as exc:
        return _disconnected(host, port, exc)
    except smtplib.SMTPResponseException as exc:  # 535 wrong password, 454, 530...
        return AuthFailed(host, redact(_reply(exc.smtp_code, exc.smtp_error), secret))
    except smtplib.SMTPException as exc:  # "No suitable authentication method found."
        return AuthFailed(host, redact(str(exc), secret))
    except UnicodeError:  # smtplib encodes AUTH as ASCII
        return AuthFailed(host, "the user name or password has characters SMTP cannot send")
    except TimeoutError:
        return TimedOut(host, port)
    except OSError as exc:
        return ConnectFailed(host, port, exc.strerror or type(exc).__name__)
    except Exception as exc:  # whatever it is, its traceback holds the password: don't chain
        logger.warning("unexpected %s while signing in to %s", type(exc).__name__, host)
        return ProtocolFailure(host, port, f"unexpected {type(exc).__name__} during sign-in")
    finally:
        client.user = client.password = ""  # smtplib keeps both for its AUTH callbacks
    return None


def _attempt_oauth(client: SmtpClient, user: str, token: str) -> MailProtocolError | None:
    """AUTH OAUTHBEARER or XOAUTH2; a 535 is TokenRejected (RFC 4954: bad credentials), any
    other refusal (454: the server could not check it now) AuthFailed."""
    host, port = client.endpoint.host, client.endpoint.port
    try:
        client.ehlo_or_helo_if_needed()
        mechanism = sasl_oauth.choose_mechanism(auth_mechanisms(client))
        if mechanism is None:
            return AuthFailed(host, _no_oauth(client))
        code, reply = _authenticate(client, sasl_oauth.exchange(mechanism, user, token, host, port))
    except smtplib.SMTPServerDisconnected as exc:
        return _disconnected(host, port, exc)
    except smtplib.SMTPException as exc:  # the second EHLO refused, a broken reply
        return ProtocolFailure(host, port, redact(str(exc), token))
    except TimeoutError:
        return TimedOut(host, port)
    except OSError as exc:
        return ConnectFailed(host, port, exc.strerror or type(exc).__name__)
    except Exception as exc:  # whatever it is, its traceback holds the token: don't chain
        logger.warning("unexpected %s while signing in to %s", type(exc).__name__, host)
        return ProtocolFailure(host, port, f"unexpected {type(exc).__name__} during sign-in")
    if code == 235:
        return None
    words = redact(_reply(code, reply), token)
    return TokenRejected(host, words) if code == 535 else AuthFailed(host, words)


def _no_oauth(client: SmtpClient) -> str:
    if not client.has_extn("auth"):
        return "the server offers no sign-in (AUTH) on this connection"
    return "the server offers no OAuth sign-in (OAUTHBEARER or XOAUTH2)"


def _authenticate(client: SmtpClient, answer: sasl_oauth.Exchange) -> tuple[int, bytes]:
    """AUTH with the initial response (RFC 4954); after an error challenge (334) the server
    waits for one more line before its 535, so the exchange is closed rather than left open."""
    code, reply = client.docmd("AUTH", f"{answer.mechanism} {sasl_oauth.encoded(answer())}")
    if code == 334:
        code, reply = client.docmd(sasl_oauth.encoded(answer(sasl_oauth.decoded(reply))))
    return code, reply


def size_limit(client: SmtpClient) -> int | None:
    """The SIZE the server announced (RFC 1870; 0 means no limit), None if it did not."""
    value = client.esmtp_features.get("size", "").strip()
    return int(value) if value.isdigit() else None


def auth_mechanisms(client: SmtpClient) -> frozenset[str]:
    return frozenset(client.esmtp_features.get("auth", "").upper().split())


def extensions(client: SmtpClient) -> frozenset[str]:
    """The EHLO keywords, upper case."""
    return frozenset(name.upper() for name in client.esmtp_features)


def close(client: SmtpClient) -> None:
    """QUIT; a connection that is already broken is just dropped. Never raises."""
    try:
        client.quit()
    except Exception:  # the server went away or misbehaved: nothing left to say to it
        abandon(client)


def abandon(client: SmtpClient) -> None:
    """Hangs up without QUIT: after a failure, don't wait on a server that may not answer."""
    with suppress(Exception):
        client.close()


def session(
    server: Server,
    credentials: Credentials,
    policy: NetworkPolicy,
    pinned_fingerprint: str | None = None,
) -> AbstractContextManager[SmtpClient]:
    """A signed-in connection, closed with QUIT at the end."""
    return connection.session(_steps(), server, credentials, policy, pinned_fingerprint)


def _steps() -> connection.Steps[SmtpClient]:
    return connection.Steps(
        open=_open,
        peer_certificate=lambda client: client.sock.getpeercert(binary_form=True),  # type: ignore[union-attr]
        login=login,
        close=close,
        abandon=abandon,
        ready=_greet_again,
    )
