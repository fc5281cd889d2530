"""Guessing against the real Dovecot and Postfix, named by the local DNS server."""

import time

from accounts.discovery import Source, guess
from accounts.discovery.types import EmailAddress
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server
from tests.harness.dns import LocalDnsServer
from tests.harness.mailservers import MailServers
from tests.harness.ports import STANDARD_HOST


def _guess(policy: NetworkPolicy, domain: str = "example.test"):
    return guess.discover(EmailAddress("someone", domain), policy, time.monotonic() + 3)


def _names(dns_server: LocalDnsServer, *names: str) -> None:
    for name in names:
        dns_server.set(name, "A", STANDARD_HOST)


def test_it_finds_imap_and_smtp_over_implicit_tls(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "imap.example.test", "smtp.example.test")

    found = _guess(policy)

    assert found is not None and found.source is Source.GUESS
    assert found.protocol is Protocol.IMAP
    assert found.incoming == Server("imap.example.test", 993, Security.TLS)
    assert found.outgoing == Server("smtp.example.test", 465, Security.TLS)
    assert found.username == "someone@example.test"
    assert found.notes


def test_it_falls_back_to_mail_and_pop_names(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "pop.example.test", "mail.example.test")

    found = _guess(policy)

    assert found is not None
    # mail.<domain> answers IMAP too, and IMAP beats POP3 whatever the name.
    assert (found.protocol, found.incoming) == (
        Protocol.IMAP,
        Server("mail.example.test", 993, Security.TLS),
    )
    assert found.outgoing == Server("mail.example.test", 465, Security.TLS)


def test_a_domain_with_nothing_yields_nothing(
    dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    started = time.monotonic()

    assert _guess(policy, "nothing.example") is None
    assert time.monotonic() - started < 2  # nothing to wait for, long before the 3 s deadline


def test_incoming_without_outgoing_yields_nothing(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "imap.example.test")

    assert _guess(policy) is None


def test_servers_whose_certificate_does_not_match_do_not_count(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "imap.elsewhere.zone", "smtp.elsewhere.zone")  # certificate: *.test

    assert _guess(policy, "elsewhere.zone") is None


def test_private_addresses_are_not_probed_by_default(
    mail_servers: MailServers, dns_server: LocalDnsServer, strict_policy: NetworkPolicy
) -> None:
    _names(dns_server, "imap.example.test", "smtp.example.test")

    assert _guess(strict_policy) is None
