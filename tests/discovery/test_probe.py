"""Greeting probes against the real Dovecot and Postfix on the standard ports of STANDARD_HOST."""

import time
from dataclasses import replace

import pytest

from accounts.discovery.probe import probe
from mailbox.protocols.errors import (
    CertificateUntrusted,
    ConnectionRefused,
    ForbiddenAddress,
    ProtocolFailure,
    TimedOut,
)
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server
from tests.harness.dns import LocalDnsServer
from tests.harness.https import LocalHttpsServer
from tests.harness.mailservers import MailServers
from tests.harness.ports import STANDARD_HOST


@pytest.mark.parametrize(
    ("protocol", "port", "security"),
    [
        (Protocol.IMAP, 993, Security.TLS),
        (Protocol.IMAP, 143, Security.STARTTLS),
        (Protocol.POP3, 995, Security.TLS),
        (Protocol.POP3, 110, Security.STARTTLS),
        (Protocol.SMTP, 465, Security.TLS),
        (Protocol.SMTP, 587, Security.STARTTLS),
    ],
)
def test_each_real_server_greets_over_verified_tls(
    mail_servers: MailServers,
    dns_server: LocalDnsServer,
    policy: NetworkPolicy,
    protocol: Protocol,
    port: int,
    security: Security,
) -> None:
    dns_server.set("mail.example.test", "A", STANDARD_HOST)

    probe(protocol, Server("mail.example.test", port, security), policy)


def test_a_certificate_for_other_names_does_not_count(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set("mail.elsewhere.zone", "A", STANDARD_HOST)  # the certificate names *.test

    for port, security in ((993, Security.TLS), (143, Security.STARTTLS)):
        with pytest.raises(CertificateUntrusted):
            probe(Protocol.IMAP, Server("mail.elsewhere.zone", port, security), policy)


def test_the_wrong_protocol_does_not_count(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set("mail.example.test", "A", STANDARD_HOST)

    with pytest.raises(ProtocolFailure):
        probe(Protocol.SMTP, Server("mail.example.test", 993, Security.TLS), policy)
    with pytest.raises(ProtocolFailure):
        probe(Protocol.POP3, Server("mail.example.test", 143, Security.STARTTLS), policy)


def test_a_server_that_never_greets_times_out_in_time(
    https_server: LocalHttpsServer, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set("imap.example.test", "A", STANDARD_HOST)  # HTTPS waits for the client
    started = time.monotonic()

    with pytest.raises(TimedOut):
        probe(
            Protocol.IMAP,
            Server("imap.example.test", 443, Security.TLS),
            replace(policy, timeout=0.3),
        )
    assert time.monotonic() - started < 1.5


def test_nothing_listening_is_refused(dns_server: LocalDnsServer, policy: NetworkPolicy) -> None:
    dns_server.set("imap.example.test", "A", "127.0.0.34")

    with pytest.raises(ConnectionRefused):
        probe(Protocol.IMAP, Server("imap.example.test", 993, Security.TLS), policy)


def test_private_addresses_are_refused_by_default(
    dns_server: LocalDnsServer, strict_policy: NetworkPolicy
) -> None:
    dns_server.set("imap.example.test", "A", STANDARD_HOST)

    with pytest.raises(ForbiddenAddress):
        probe(Protocol.IMAP, Server("imap.example.test", 993, Security.TLS), strict_policy)


def test_plain_text_is_never_probed(policy: NetworkPolicy) -> None:
    with pytest.raises(ValueError):
        probe(Protocol.IMAP, Server("imap.example.test", 143, Security.NONE), policy)
