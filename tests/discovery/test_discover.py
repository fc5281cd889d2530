"""discover(): the steps side by side, the ranking, the deadline and the JSON shape."""

import json
import time

from accounts.discovery import Source, discover
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server
from tests.discovery.conftest import SilentListener
from tests.discovery.test_autoconfig import CONFIG, CONFIG_PATH
from tests.harness.dns import LocalDnsServer
from tests.harness.https import LocalHttpsServer
from tests.harness.mailservers import MailServers
from tests.harness.ports import STANDARD_HOST

GODADDY_MX = ["0 mx1.secureserver.net.", "10 mx2.secureserver.net."]


def _names(dns_server: LocalDnsServer, *names: str, address: str = STANDARD_HOST) -> None:
    for name in names:
        dns_server.set(name, "A", address)


def test_a_godaddy_hosted_domain_is_found_by_its_mx(
    dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set("godaddy-hosted.example", "MX", GODADDY_MX)

    found = discover("someone@godaddy-hosted.example", policy, deadline_seconds=3)

    assert found is not None and (found.source, found.provider) == (Source.MX, "godaddy")
    assert found.incoming == Server("imap.secureserver.net", 993, Security.TLS)
    assert found.outgoing == Server("smtpout.secureserver.net", 465, Security.TLS)


def test_autoconfig_beats_mx_and_guessing(
    mail_servers: MailServers,
    dns_server: LocalDnsServer,
    https_server: LocalHttpsServer,
    policy: NetworkPolicy,
) -> None:
    dns_server.set("example.test", "MX", GODADDY_MX)
    _names(dns_server, "autoconfig.example.test", "imap.example.test", "smtp.example.test")
    https_server.route("autoconfig.example.test", CONFIG_PATH, CONFIG)

    found = discover("someone@example.test", policy, deadline_seconds=3)

    assert found is not None and found.source is Source.AUTOCONFIG
    assert found.incoming == Server("imap.example.test", 143, Security.STARTTLS)


def test_mx_beats_guessing(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    dns_server.set("example.test", "MX", "1 smtp.google.com.")
    _names(dns_server, "imap.example.test", "smtp.example.test")

    found = discover("someone@example.test", policy, deadline_seconds=3)

    assert found is not None and (found.source, found.provider) == (Source.MX, "gmail")


def test_guessing_answers_when_nothing_else_does(
    mail_servers: MailServers, dns_server: LocalDnsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "imap.example.test", "smtp.example.test")

    found = discover("someone@example.test", policy, deadline_seconds=3)

    assert found is not None and found.source is Source.GUESS
    assert found.incoming == Server("imap.example.test", 993, Security.TLS)


def test_nothing_found_is_none(dns_server: LocalDnsServer, policy: NetworkPolicy) -> None:
    started = time.monotonic()

    assert discover("someone@nothing.example", policy, deadline_seconds=3) is None
    assert time.monotonic() - started < 2  # every step gave up at once, long before 3 s


def test_private_hosts_yield_nothing_by_default(
    mail_servers: MailServers,
    dns_server: LocalDnsServer,
    https_server: LocalHttpsServer,
    strict_policy: NetworkPolicy,
) -> None:
    _names(dns_server, "autoconfig.example.test", "example.test")
    _names(dns_server, "imap.example.test", "smtp.example.test", "mail.example.test")
    https_server.route("autoconfig.example.test", CONFIG_PATH, CONFIG)

    assert discover("someone@example.test", strict_policy, deadline_seconds=3) is None
    assert https_server.requests == []


def test_silent_hosts_do_not_hold_up_the_answer(
    mail_servers: MailServers,
    dns_server: LocalDnsServer,
    https_server: LocalHttpsServer,
    policy: NetworkPolicy,
    silent_listener: SilentListener,
) -> None:
    silent = silent_listener(443, 993, 465)
    # The best-ranked names stand behind the silent listener; mail.<domain> really answers.
    _names(dns_server, "autoconfig.example.test", address=silent)
    _names(dns_server, "imap.example.test", "smtp.example.test", address=silent)
    _names(dns_server, "mail.example.test")
    dns_server.silence("example.test")  # its MX (and .well-known) lookups never answer
    deadline = 1.5
    started = time.monotonic()

    # Each probe may wait 10 s: only the deadline can end the call in time.
    found = discover("someone@example.test", policy, deadline_seconds=deadline, probe_timeout=10)

    assert time.monotonic() - started < deadline + 1
    assert found is not None and found.source is Source.GUESS
    assert found.incoming == Server("mail.example.test", 993, Security.TLS)
    assert found.outgoing == Server("mail.example.test", 465, Security.TLS)


def test_a_wholly_silent_domain_answers_none_by_the_deadline(
    dns_server: LocalDnsServer, policy: NetworkPolicy, silent_listener: SilentListener
) -> None:
    silent = silent_listener(443, 993, 143, 995, 110, 465, 587)
    _names(dns_server, "autoconfig.example.test", "imap.example.test", address=silent)
    _names(dns_server, "mail.example.test", "pop.example.test", "smtp.example.test", address=silent)
    dns_server.silence("example.test")
    started = time.monotonic()

    found = discover("someone@example.test", policy, deadline_seconds=1, probe_timeout=10)

    assert found is None
    assert time.monotonic() - started < 2


def test_the_json_shape_of_mailsettings(dns_server: LocalDnsServer, policy: NetworkPolicy) -> None:
    dns_server.set("godaddy-hosted.example", "MX", GODADDY_MX)
    found = discover("someone@godaddy-hosted.example", policy, deadline_seconds=3)
    assert found is not None

    shown = json.loads(json.dumps(found.to_json()))

    assert shown == {
        "source": "mx",
        "incoming": {
            "protocol": "imap",
            "host": "imap.secureserver.net",
            "port": 993,
            "security": "tls",
        },
        "outgoing": {"host": "smtpout.secureserver.net", "port": 465, "security": "tls"},
        "notes": list(found.notes),
    }
    assert all(isinstance(note, str) for note in shown["notes"])
    table = discover("someone@gmail.com", policy)
    assert table is not None and table.to_json()["source"] == "providers"
    assert table.to_json()["incoming"]["protocol"] == Protocol.IMAP.value
