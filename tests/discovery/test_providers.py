"""The built-in provider table: answers by domain at once, with no network at all."""

from dataclasses import replace

import pytest

from accounts.discovery import Discovery, EmailAddress, Source, discover
from accounts.discovery.providers import by_domain, by_mx_host, load_providers
from accounts.discovery.types import best_candidate
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server
from tests.harness.dns import LocalDnsServer
from tests.harness.https import LocalHttpsServer

# A DNS server nobody runs: any lookup would time out and fail the test's time limit.
NOWHERE = NetworkPolicy(timeout=5.0, dns_server="127.0.0.1:9")


def test_it_answers_gmail_from_the_table() -> None:
    found = discover("someone@gmail.com", NOWHERE)

    assert found is not None
    assert replace(found, notes=()) == Discovery(
        source=Source.PROVIDERS,
        protocol=Protocol.IMAP,
        incoming=Server("imap.gmail.com", 993, Security.TLS),
        outgoing=Server("smtp.gmail.com", 465, Security.TLS),
        username="someone@gmail.com",
        outgoing_username="someone@gmail.com",
        provider="gmail",
        provider_name="Gmail / Google Workspace",
        oauth="google",
    )
    assert any("app password" in note for note in found.notes)


@pytest.mark.parametrize("domain", ["outlook.com", "hotmail.com", "live.com", "msn.com"])
def test_it_answers_outlook_domains_with_oauth(domain: str) -> None:
    found = discover(f"someone@{domain}", NOWHERE)

    assert found is not None and found.provider == "outlook"
    assert found.incoming == Server("outlook.office365.com", 993, Security.TLS)
    assert found.outgoing == Server("smtp-mail.outlook.com", 587, Security.STARTTLS)
    assert found.oauth == "microsoft"
    assert any("OAuth" in note for note in found.notes)


@pytest.mark.parametrize(
    ("domain", "provider", "imap_host", "smtp"),
    [
        ("googlemail.com", "gmail", "imap.gmail.com", ("smtp.gmail.com", 465)),
        ("yahoo.com", "yahoo", "imap.mail.yahoo.com", ("smtp.mail.yahoo.com", 465)),
        ("icloud.com", "icloud", "imap.mail.me.com", ("smtp.mail.me.com", 587)),
        ("me.com", "icloud", "imap.mail.me.com", ("smtp.mail.me.com", 587)),
        ("mac.com", "icloud", "imap.mail.me.com", ("smtp.mail.me.com", 587)),
        ("aol.com", "aol", "imap.aol.com", ("smtp.aol.com", 465)),
        ("gmx.com", "gmx.com", "imap.gmx.com", ("mail.gmx.com", 465)),
        ("gmx.de", "gmx.net", "imap.gmx.net", ("mail.gmx.net", 465)),
        ("gmx.net", "gmx.net", "imap.gmx.net", ("mail.gmx.net", 465)),
        ("zoho.com", "zoho", "imap.zoho.com", ("smtp.zoho.com", 465)),
        ("fastmail.com", "fastmail", "imap.fastmail.com", ("smtp.fastmail.com", 465)),
    ],
)
def test_it_answers_each_major_provider(
    domain: str, provider: str, imap_host: str, smtp: tuple[str, int]
) -> None:
    found = discover(f"someone@{domain}", NOWHERE)

    assert found is not None and found.provider == provider
    assert found.protocol is Protocol.IMAP
    assert found.incoming == Server(imap_host, 993, Security.TLS)
    assert (found.outgoing.host, found.outgoing.port) == smtp
    assert found.notes


def test_icloud_signs_in_to_imap_with_the_name_part() -> None:
    found = discover("john.appleseed@icloud.com", NOWHERE)

    assert found is not None
    assert (found.username, found.outgoing_username) == (
        "john.appleseed",
        "john.appleseed@icloud.com",
    )


def test_it_ignores_case_and_spaces_in_the_address() -> None:
    found = discover("  Some.One@GMail.COM ", NOWHERE)

    assert found is not None and found.provider == "gmail"
    assert found.username == "Some.One@gmail.com"


def test_an_international_domain_is_looked_up_in_its_ascii_form() -> None:
    assert EmailAddress.parse("Jörg@Bücher.Example").domain == "xn--bcher-kva.example"


def test_a_table_hit_touches_no_network(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer
) -> None:
    policy = NetworkPolicy(timeout=1.0, allow_private=True, dns_server=dns_server.address)

    for address in ("a@gmail.com", "b@outlook.com", "c@yahoo.com", "d@icloud.com"):
        assert discover(address, policy) is not None

    assert dns_server.queries == []
    assert https_server.requests == []


def test_a_malformed_address_is_refused() -> None:
    for address in (
        "no-at-sign",
        "@gmail.com",
        "someone@",
        "someone@bad_domain",
        "someone@localhost",
        "someone@127.0.0.1",
        "someone@[127.0.0.1]",
        "someone@a..b",
    ):
        with pytest.raises(ValueError):
            discover(address, NOWHERE)


@pytest.mark.parametrize(
    ("mx_host", "provider"),
    [
        ("aspmx.l.google.com", "gmail"),
        ("alt1.aspmx.l.google.com", "gmail"),
        ("smtp.google.com", "gmail"),
        ("gmail-smtp-in.l.google.com", "gmail"),
        ("contoso-com.mail.protection.outlook.com", "microsoft365"),
        ("hotmail-com.olc.protection.outlook.com", "outlook"),
        ("mx1.secureserver.net", "godaddy"),
        ("smtp.secureserver.net", "godaddy"),
        ("mta5.am0.yahoodns.net", "yahoo"),
        ("mx-aol.mail.gm0.yahoodns.net", "aol"),
        ("mx01.mail.icloud.com", "icloud"),
        ("mx.zoho.com", "zoho-business"),
        ("mx.zoho.eu", "zoho-business-eu"),
        ("in1-smtp.messagingengine.com", "fastmail"),
        ("MX00.GMX.NET.", "gmx.net"),
        ("mx.example.net", None),
        ("google.com.attacker.example", None),
        ("notgoogle.com", None),
    ],
)
def test_mx_hosts_map_to_providers(mx_host: str, provider: str | None) -> None:
    found = by_mx_host(mx_host)

    assert (found.id if found else None) == provider


def test_the_data_file_is_consistent() -> None:
    providers = load_providers()

    ids = [p.id for p in providers]
    assert len(ids) == len(set(ids))
    for provider in providers:
        # Listed best first: the table's first choice is what the ranking would pick.
        assert best_candidate(provider.incoming) == provider.incoming[0]
        assert best_candidate(provider.outgoing) == provider.outgoing[0]
        assert provider.notes, f"{provider.id} has no note for the person"
        for candidate in provider.incoming + provider.outgoing:
            assert candidate.server.security is not Security.NONE
    godaddy = next(p for p in providers if p.id == "godaddy")
    assert [c.server for c in godaddy.incoming] == [
        Server("imap.secureserver.net", 993, Security.TLS),
        Server("pop.secureserver.net", 995, Security.TLS),
    ]
    assert godaddy.outgoing[0].server == Server("smtpout.secureserver.net", 465, Security.TLS)
    assert by_domain("GMAIL.com") is not None and by_domain("example.test") is None
