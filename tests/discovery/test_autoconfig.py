"""Autoconfig against the local HTTPS server, names from the local DNS server."""

import time

import pytest

from accounts.discovery import Source, autoconfig
from accounts.discovery.autoconfig import MAX_BYTES, fetch
from accounts.discovery.autoconfig_xml import AutoconfigInvalid, parse
from accounts.discovery.types import EmailAddress
from mailbox.protocols import net
from mailbox.protocols.errors import ForbiddenAddress, ProtocolFailure
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server
from tests.harness.dns import LocalDnsServer
from tests.harness.https import LocalHttpsServer
from tests.harness.ports import STANDARD_HOST

EMAIL = EmailAddress("someone", "example.test")
CONFIG_PATH = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"

CONFIG = b"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="pop3">
      <hostname>pop.%EMAILDOMAIN%</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>plain.example.test</hostname>
      <port>143</port>
      <socketType>plain</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>25</port>
      <socketType>plain</socketType>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""

PLAIN_ONLY = b"""<clientConfig version="1.1"><emailProvider id="x">
  <incomingServer type="imap"><hostname>imap.example.test</hostname><port>143</port>
    <socketType>plain</socketType></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.example.test</hostname><port>587</port>
    <socketType>STARTTLS</socketType></outgoingServer>
</emailProvider></clientConfig>"""

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<clientConfig version="1.1"><emailProvider id="&lol3;">
  <incomingServer type="imap"><hostname>imap.example.test</hostname><port>993</port>
    <socketType>SSL</socketType></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.example.test</hostname><port>465</port>
    <socketType>SSL</socketType></outgoingServer>
</emailProvider></clientConfig>"""


def _names(dns_server: LocalDnsServer, *names: str, address: str = STANDARD_HOST) -> None:
    for name in names:
        dns_server.set(name, "A", address)


def _discover(policy: NetworkPolicy, email: EmailAddress = EMAIL):
    return autoconfig.discover(email, policy, time.monotonic() + 5)


def test_it_reads_autoconfig_at_the_autoconfig_host(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "autoconfig.example.test")
    https_server.route("autoconfig.example.test", CONFIG_PATH, CONFIG)

    found = _discover(policy)

    assert found is not None and found.source is Source.AUTOCONFIG
    # IMAP over POP3 even when POP3 offers implicit TLS; the plain entries are skipped.
    assert found.protocol is Protocol.IMAP
    assert found.incoming == Server("imap.example.test", 143, Security.STARTTLS)
    assert found.outgoing == Server("smtp.example.test", 587, Security.STARTTLS)
    assert (found.username, found.outgoing_username) == ("someone", "someone@example.test")
    assert (found.provider, found.provider_name) == ("example.test", "Example Mail")
    (request,) = https_server.requests
    assert request.scheme == "https"
    assert request.query == "emailaddress=someone@example.test"


def test_it_reads_the_well_known_place_of_the_domain(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "example.test")
    https_server.route("example.test", WELL_KNOWN_PATH, CONFIG)

    found = _discover(policy)

    assert found is not None and found.incoming.host == "imap.example.test"
    assert [(r.host, r.path) for r in https_server.requests] == [("example.test", WELL_KNOWN_PATH)]


def test_a_file_offering_only_plain_text_on_one_side_yields_nothing(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "autoconfig.example.test")
    https_server.route("autoconfig.example.test", CONFIG_PATH, PLAIN_ONLY)

    assert _discover(policy) is None


def test_an_entity_bomb_is_refused(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "autoconfig.example.test")
    https_server.route("autoconfig.example.test", CONFIG_PATH, ENTITY_BOMB)

    with pytest.raises(AutoconfigInvalid, match="DTDForbidden"):
        parse(ENTITY_BOMB, EMAIL)
    assert _discover(policy) is None


def test_an_oversized_file_is_refused(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "autoconfig.example.test")
    padded = CONFIG.replace(b"<clientConfig", b"<!--" + b"x" * MAX_BYTES + b"-->\n<clientConfig")
    https_server.route("autoconfig.example.test", CONFIG_PATH, padded)

    with pytest.raises(ProtocolFailure, match="too large"):
        fetch(f"https://autoconfig.example.test{CONFIG_PATH}", policy)
    assert _discover(policy) is None


def test_it_follows_up_to_three_https_redirects(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "autoconfig.example.test", "hop1.example.test", "hop2.example.test")
    https_server.redirect("autoconfig.example.test", CONFIG_PATH, "https://hop1.example.test/a")
    https_server.redirect("hop1.example.test", "/a", "/b", status=301)  # relative
    https_server.redirect("hop1.example.test", "/b", "https://hop2.example.test/c", status=308)
    https_server.route("hop2.example.test", "/c", CONFIG)

    found = _discover(policy)

    assert found is not None and found.incoming.host == "imap.example.test"
    assert [r.host for r in https_server.requests] == [
        "autoconfig.example.test",
        "hop1.example.test",
        "hop1.example.test",
        "hop2.example.test",
    ]


def test_a_fourth_redirect_is_refused(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, policy: NetworkPolicy
) -> None:
    _names(dns_server, "autoconfig.example.test")
    https_server.redirect("autoconfig.example.test", CONFIG_PATH, "/1")
    for hop in ("1", "2", "3"):
        https_server.redirect("autoconfig.example.test", f"/{hop}", f"/{int(hop) + 1}")
    https_server.route("autoconfig.example.test", "/4", CONFIG)

    with pytest.raises(ProtocolFailure, match="more than 3 redirects"):
        fetch(f"https://autoconfig.example.test{CONFIG_PATH}", policy)
    assert "/4" not in [r.path for r in https_server.requests]


@pytest.mark.parametrize(
    "location",
    ["http://autoconfig.example.test/plain.xml", "https://autoconfig.example.test:8443/x.xml"],
)
def test_a_redirect_off_https_is_refused(
    dns_server: LocalDnsServer,
    https_server: LocalHttpsServer,
    policy: NetworkPolicy,
    location: str,
) -> None:
    _names(dns_server, "autoconfig.example.test")
    https_server.redirect("autoconfig.example.test", CONFIG_PATH, location)
    https_server.route("autoconfig.example.test", "/plain.xml", CONFIG)

    assert _discover(policy) is None
    assert [r.scheme for r in https_server.requests] == ["https"]


def test_a_private_autoconfig_host_is_refused(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, strict_policy: NetworkPolicy
) -> None:
    _names(dns_server, "autoconfig.example.test", "example.test")
    https_server.route("autoconfig.example.test", CONFIG_PATH, CONFIG)
    https_server.route("example.test", WELL_KNOWN_PATH, CONFIG)

    assert _discover(strict_policy) is None
    assert https_server.requests == []


def test_a_redirect_to_a_private_host_is_not_followed(
    dns_server: LocalDnsServer,
    https_server: LocalHttpsServer,
    strict_policy: NetworkPolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No public address exists on this machine: the first host is let through as if it were
    # public; the hop it redirects to faces the real policy.
    real_connect = net.connect

    def connect(host: str, port: int, policy: NetworkPolicy):
        if host == "autoconfig.example.test":
            policy = NetworkPolicy(policy.timeout, True, policy.dns_server, policy.ca_file)
        return real_connect(host, port, policy)

    monkeypatch.setattr(net, "connect", connect)
    _names(dns_server, "autoconfig.example.test", "internal.example.test")
    https_server.redirect(
        "autoconfig.example.test", CONFIG_PATH, "https://internal.example.test/mail.xml"
    )
    https_server.route("internal.example.test", "/mail.xml", CONFIG)

    with pytest.raises(ForbiddenAddress):
        fetch(f"https://autoconfig.example.test{CONFIG_PATH}", strict_policy)
    assert [r.host for r in https_server.requests] == ["autoconfig.example.test"]
