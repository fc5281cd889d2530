"""What goes wrong before or during sign-in, for IMAP, POP3 and SMTP alike, as typed errors."""

import socket
from collections.abc import Callable

import pytest

from mailbox.protocols.errors import (
    AuthFailed,
    CertificateUntrusted,
    ConnectFailed,
    ConnectionRefused,
    ForbiddenAddress,
    NameNotFound,
    ProtocolFailure,
    TimedOut,
    TlsUnavailable,
)
from mailbox.protocols.types import Credentials, Server
from tests.harness.certs import TestCA
from tests.harness.dns import LocalDnsServer
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST, free_port
from tests.protocols import fakes
from tests.protocols.support import (
    IMAP,
    NONE,
    POP3,
    SMTP,
    STARTTLS,
    TLS,
    certificate_file,
    check,
    credentials,
    policy,
    server_for,
)

ANYONE = Credentials("someone@example.test", "not-a-real-password")
PROTOCOLS = [IMAP, POP3, SMTP]
PROTOCOLS_AND_SECURITY = [(p, s) for p in PROTOCOLS for s in (TLS, STARTTLS)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_name_without_records_is_not_found(protocol, dns_server: LocalDnsServer) -> None:
    server = Server("nowhere.example.test", 993, TLS)

    with pytest.raises(NameNotFound):
        check(protocol, server, ANYONE, policy(dns_server=dns_server.address))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_closed_port_refuses_the_connection(protocol) -> None:
    server = Server("127.0.0.1", free_port(), STARTTLS)

    with pytest.raises(ConnectionRefused):
        check(protocol, server, ANYONE, policy())


@pytest.mark.parametrize(("protocol", "security"), PROTOCOLS_AND_SECURITY)
def test_a_server_that_never_answers_times_out(
    protocol, security, silent_listener: socket.socket
) -> None:
    """No greeting (STARTTLS) or no TLS handshake (TLS): either way, the policy's time-out."""
    server = Server("127.0.0.1", silent_listener.getsockname()[1], security)

    with pytest.raises(TimedOut):
        check(protocol, server, ANYONE, policy(timeout=0.3))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_private_address_is_refused_without_connecting(
    protocol, silent_listener: socket.socket
) -> None:
    server = Server("127.0.0.1", silent_listener.getsockname()[1], TLS)

    with pytest.raises(ForbiddenAddress):
        check(protocol, server, ANYONE, policy(allow_private=False))

    silent_listener.settimeout(0.05)
    with pytest.raises(TimeoutError):
        silent_listener.accept()  # nobody knocked


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_server_dropping_the_connection_mid_greeting_is_a_protocol_failure(
    protocol, mail_servers: MailServers, fault_proxy: Callable[..., FaultProxy]
) -> None:
    target = server_for(mail_servers, protocol, STARTTLS)
    proxy = fault_proxy(target.host, target.port)
    proxy.cut_after(2)  # bytes of the greeting

    with pytest.raises((ProtocolFailure, ConnectFailed)):
        check(protocol, Server(proxy.host, proxy.port, STARTTLS), ANYONE, policy())

    assert proxy.faults_fired == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_port_that_speaks_http_is_not_a_mail_server(protocol, fake_server) -> None:
    web = fake_server(fakes.HTTP_GREETING, fakes.http)

    with pytest.raises(ProtocolFailure):
        check(protocol, Server(web.host, web.port, STARTTLS), ANYONE, policy())


@pytest.mark.parametrize(
    ("protocol", "greeting", "reply"),
    [
        (IMAP, fakes.IMAP_GREETING, fakes.imap_without_starttls),
        (POP3, fakes.POP3_GREETING, fakes.pop3_without_stls),
        (SMTP, fakes.SMTP_GREETING, fakes.smtp_without_starttls),
    ],
)
def test_without_starttls_on_offer_no_password_is_sent(
    protocol, greeting: bytes, reply, fake_server
) -> None:
    server = fake_server(greeting, reply)

    with pytest.raises(TlsUnavailable):
        check(protocol, Server(server.host, server.port, STARTTLS), ANYONE, policy())

    sent = b"\n".join(server.received).upper()
    assert server.received
    assert not any(verb in sent for verb in (b"LOGIN", b"AUTH", b"USER", b"PASS"))
    assert ANYONE.password.encode() not in b"\n".join(server.received)


# Certificates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("protocol", "security"), PROTOCOLS_AND_SECURITY)
def test_a_certificate_from_an_unknown_ca_is_untrusted_with_its_fingerprint(
    protocol, security, foreign_servers: MailServers, foreign_ca: TestCA
) -> None:
    server = server_for(foreign_servers, protocol, security)

    with pytest.raises(CertificateUntrusted) as caught:
        check(protocol, server, ANYONE, policy())

    expected = foreign_ca.sha256_fingerprint(certificate_file(foreign_servers))
    assert caught.value.fingerprint == expected


@pytest.mark.parametrize(("protocol", "security"), PROTOCOLS_AND_SECURITY)
def test_the_pinned_certificate_signs_in_whoever_issued_it(
    protocol, security, foreign_servers: MailServers, foreign_ca: TestCA
) -> None:
    user = foreign_servers.add_user("pinned@example.test", "pinned-password")
    pin = foreign_ca.sha256_fingerprint(certificate_file(foreign_servers))
    server = server_for(foreign_servers, protocol, security)

    result = check(protocol, server, credentials(user), policy(), pinned=pin.lower())

    assert result.certificate_fingerprint == pin


@pytest.mark.parametrize(("protocol", "security"), PROTOCOLS_AND_SECURITY)
def test_a_wrong_pin_is_untrusted_with_the_presented_fingerprint(
    protocol, security, mail_servers: MailServers, test_ca: TestCA
) -> None:
    """Even a certificate the system trusts is refused when a different one was pinned."""
    server = server_for(mail_servers, protocol, security)

    with pytest.raises(CertificateUntrusted) as caught:
        check(protocol, server, ANYONE, policy(), pinned="AB" * 32)

    assert caught.value.fingerprint == test_ca.sha256_fingerprint(certificate_file(mail_servers))


def test_a_name_the_certificate_does_not_cover_is_untrusted_until_pinned(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    dns_server: LocalDnsServer,
    test_ca: TestCA,
) -> None:
    dns_server.set("mail.example.org", "A", STANDARD_HOST)  # the certificate names *.test only
    server = Server("mail.example.org", 993, TLS)
    net_policy = policy(dns_server=dns_server.address)

    with pytest.raises(CertificateUntrusted, match="mismatch") as caught:
        check(IMAP, server, ANYONE, net_policy)
    pin = caught.value.fingerprint

    assert pin == test_ca.sha256_fingerprint(certificate_file(mail_servers))
    assert check(IMAP, server, credentials(mail_user()), net_policy, pinned=pin).has_idle


# Servers that echo what they were sent --------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "greeting", "reply"),
    [
        (IMAP, fakes.IMAP_GREETING, fakes.imap_echoing_login),
        (POP3, fakes.POP3_GREETING, fakes.pop3_without_stls),
    ],
)
def test_a_refusal_that_echoes_the_password_is_masked(
    protocol, greeting: bytes, reply, fake_server
) -> None:
    server = fake_server(greeting, reply)

    with pytest.raises(AuthFailed) as caught:
        check(protocol, Server(server.host, server.port, NONE), ANYONE, policy())

    assert ANYONE.password not in str(caught.value)
    assert "***" in caught.value.server_reply
