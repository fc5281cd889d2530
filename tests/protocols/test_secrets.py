"""A canary password pushed through every failure path never shows: not in an error's words or
repr, not in its cause/context chain, not in a frame a traceback reaches, not in a log line."""

import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mailbox.protocols.check import CheckResult
from mailbox.protocols.errors import AuthFailed, MailProtocolError
from mailbox.protocols.types import Credentials, Server
from tests.harness.faultproxy import FaultProxy
from tests.harness.faults import C2S
from tests.harness.mailservers import MailServers, MailUser
from tests.protocols import fakes
from tests.protocols.support import IMAP, NONE, POP3, SMTP, STARTTLS, TLS, check, policy, server_for

CANARY = "Canary-7f3a-Secret"  # a module global: test frames' locals must not hold it


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        exc = pending.pop()
        if id(exc) not in seen:
            seen.add(id(exc))
            yield exc
            pending += [e for e in (exc.__cause__, exc.__context__) if e is not None]


def frame_locals(exc: BaseException) -> Iterator[tuple[str, Any]]:
    tb = exc.__traceback__
    while tb is not None:
        yield from tb.tb_frame.f_locals.items()
        tb = tb.tb_next


def shown(value: Any) -> Iterator[str]:
    """What a debug page prints of a local (its repr), and of its attributes one level down:
    library objects such as smtplib.SMTP keep what they were given. Credentials are excluded:
    holding the password is their job, and their repr hides it."""
    yield _repr(value)
    if isinstance(value, Credentials | type):
        return
    for attribute in getattr(value, "__dict__", {}).values():
        yield _repr(attribute)


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # a half-built object: its type is enough
        return type(exc).__name__


def assert_no_canary(error: BaseException, records: list[logging.LogRecord]) -> None:
    for exc in exception_chain(error):
        assert CANARY not in str(exc) and CANARY not in repr(exc), repr(exc)
        for name, value in frame_locals(exc):
            for text in shown(value):
                assert CANARY not in text, f"{name} in a frame of {type(exc).__name__}"
    for record in records:  # not getMessage(): imaplib's print_log() logs unformattable records
        assert CANARY not in f"{record.msg} {record.args!r}", record.name


def attempt(protocol, server: Server, login: str = "someone@example.test") -> CheckResult:
    return check(protocol, server, Credentials(login, CANARY), policy())


def fake_address(fake_server, greeting: bytes, reply, security=NONE) -> Server:
    """Only the address: the FakeServer records what it received, so it stays out of the
    test's frame (that frame is in the traceback too)."""
    fake = fake_server(greeting, reply)
    return Server(fake.host, fake.port, security)


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize("protocol", [IMAP, POP3, SMTP])
def test_a_refused_sign_in(
    protocol, mail_servers: MailServers, mail_user: Callable[..., MailUser], caplog
) -> None:
    server = server_for(mail_servers, protocol, STARTTLS)

    with pytest.raises(AuthFailed) as caught:
        attempt(protocol, server, mail_user().login)

    assert_no_canary(caught.value, caplog.records)


# Bytes the client sends before the password's command: cut a few bytes into that command.
CUT_INTO_THE_PASSWORD = {
    IMAP: lambda login: len(b"ABCD0 CAPABILITY\r\n") + 10,
    POP3: lambda login: len(f"USER {login}\r\n") + 8,
    SMTP: lambda login: len(b"ehlo [127.0.0.1]\r\n") + 10,
}


@pytest.mark.parametrize("protocol", [IMAP, POP3, SMTP])
def test_a_connection_cut_while_the_password_is_sent(
    protocol,
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    fault_proxy: Callable[..., FaultProxy],
    caplog,
) -> None:
    """The library's frames hold the password when this fails: they must not be reachable."""
    user = mail_user()
    target = server_for(mail_servers, protocol, TLS)
    proxy = fault_proxy(target.host, target.port, tls="implicit")
    proxy.cut_after(CUT_INTO_THE_PASSWORD[protocol](user.login), C2S)

    with pytest.raises(MailProtocolError) as caught:
        attempt(protocol, Server(proxy.host, proxy.port, TLS), user.login)

    assert proxy.faults_fired == 1
    assert not isinstance(caught.value, AuthFailed)
    assert_no_canary(caught.value, caplog.records)


@pytest.mark.parametrize(
    ("protocol", "greeting", "reply"),
    [
        (IMAP, fakes.IMAP_GREETING, fakes.imap_echoing_login),
        (POP3, fakes.POP3_GREETING, fakes.pop3_without_stls),
    ],
)
def test_a_server_that_echoes_the_password(
    protocol, greeting: bytes, reply, fake_server, caplog
) -> None:
    server = fake_address(fake_server, greeting, reply)

    with pytest.raises(AuthFailed) as caught:
        attempt(protocol, server)

    assert_no_canary(caught.value, caplog.records)


@pytest.mark.parametrize("protocol", [IMAP, POP3, SMTP])
def test_failures_before_sign_in(
    protocol, foreign_servers: MailServers, silent_listener: socket.socket, fake_server, caplog
) -> None:
    silent = Server("127.0.0.1", silent_listener.getsockname()[1], TLS)
    no_tls = fake_address(fake_server, fakes.SMTP_GREETING, fakes.smtp_without_starttls, STARTTLS)
    servers = [
        server_for(foreign_servers, protocol, TLS),  # CertificateUntrusted
        server_for(foreign_servers, protocol, STARTTLS),
        silent,  # TimedOut (short timeout below)
        no_tls,  # TlsUnavailable for SMTP; ProtocolFailure for the others
    ]

    for server in servers:
        with pytest.raises(MailProtocolError) as caught:
            check(protocol, server, Credentials("someone", CANARY), policy(timeout=0.3))
        assert_no_canary(caught.value, caplog.records)
