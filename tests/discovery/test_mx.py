"""MX lookup through the local DNS server: custom domains hosted by a known provider."""

import time

import pytest

from accounts.discovery import Source, mx
from accounts.discovery.types import EmailAddress
from mailbox.protocols.types import NetworkPolicy, Security, Server
from tests.harness.dns import LocalDnsServer


def _discover(policy: NetworkPolicy, domain: str):
    return mx.discover(EmailAddress("someone", domain), policy, time.monotonic() + 5)


def test_a_godaddy_hosted_domain_gets_godaddys_servers(
    dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set(
        "godaddy-hosted.example", "MX", ["0 mx1.secureserver.net.", "10 mx2.secureserver.net."]
    )

    found = _discover(policy, "godaddy-hosted.example")

    assert found is not None and (found.source, found.provider) == (Source.MX, "godaddy")
    assert found.incoming == Server("imap.secureserver.net", 993, Security.TLS)
    assert found.outgoing == Server("smtpout.secureserver.net", 465, Security.TLS)
    assert found.username == "someone@godaddy-hosted.example"
    assert "mx1.secureserver.net" in found.notes[0]
    assert dns_server.queries_for("godaddy-hosted.example", "MX")


def test_a_google_hosted_domain_gets_gmails_servers(
    dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set(
        "google-hosted.example",
        "MX",
        ["1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com.", "10 alt3.aspmx.l.google.com."],
    )

    found = _discover(policy, "google-hosted.example")

    assert found is not None and found.provider == "gmail"
    assert found.incoming == Server("imap.gmail.com", 993, Security.TLS)


def test_a_microsoft_365_domain_gets_microsofts_servers(
    dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set("contoso.example", "MX", "0 contoso-example.mail.protection.outlook.com.")

    found = _discover(policy, "contoso.example")

    assert found is not None and found.provider == "microsoft365"
    assert found.outgoing == Server("smtp.office365.com", 587, Security.STARTTLS)
    assert found.oauth == "microsoft"


def test_the_most_preferred_known_mx_host_decides(
    dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set(
        "mixed.example",
        "MX",
        ["5 filter.unknown-isp.example.", "20 aspmx.l.google.com.", "10 mx1.secureserver.net."],
    )

    found = _discover(policy, "mixed.example")

    assert found is not None and found.provider == "godaddy"


@pytest.mark.parametrize(
    "records",
    [
        ["10 mx.unknown-isp.example."],
        ["0 ."],  # null MX: the domain receives no mail
        [],
    ],
)
def test_unknown_or_missing_mx_hosts_yield_nothing(
    dns_server: LocalDnsServer, policy: NetworkPolicy, records: list[str]
) -> None:
    if records:
        dns_server.set("plain.example", "MX", records)

    assert _discover(policy, "plain.example") is None


def test_a_dns_server_that_fails_yields_nothing(
    dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.fail("broken.example")

    assert _discover(policy, "broken.example") is None
