"""The built-in provider table (providers.json): by domain, and by MX host pattern."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from accounts.discovery.types import HOSTNAME, Candidate, Discovery, EmailAddress, Source
from mailbox.protocols.types import Protocol, Security, Server

DATA_FILE = Path(__file__).with_name("providers.json")


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    domains: tuple[str, ...]
    mx_patterns: tuple[str, ...]
    incoming: tuple[Candidate, ...]
    outgoing: tuple[Candidate, ...]
    notes: tuple[str, ...]
    oauth: str | None

    def discovery(self, email: EmailAddress, source: Source, note: str | None = None) -> Discovery:
        # Both lists are checked non-empty and encrypted at load time, so this cannot fail.
        incoming, outgoing = self.incoming[0], self.outgoing[0]
        return Discovery(
            source=source,
            protocol=incoming.protocol,
            incoming=incoming.server,
            outgoing=outgoing.server,
            username=email.expand(incoming.username),
            outgoing_username=email.expand(outgoing.username),
            provider=self.id,
            provider_name=self.name,
            notes=((note,) if note else ()) + self.notes,
            oauth=self.oauth,
        )


def mx_pattern_matches(pattern: str, host: str) -> bool:
    """ "*.google.com" matches any name below google.com (not google.com); else exact."""
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


@cache
def load_providers() -> tuple[Provider, ...]:
    """Reads and checks the data file once; a bad entry fails loudly, not at discovery time."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    providers = tuple(_provider(entry) for entry in data["providers"])
    seen: dict[str, str] = {}
    for provider in providers:
        for domain in provider.domains:
            if domain in seen:
                raise ValueError(f"{domain} belongs to both {seen[domain]} and {provider.id}")
            seen[domain] = provider.id
    return providers


def by_domain(domain: str) -> Provider | None:
    domain = domain.lower().rstrip(".")
    return next((p for p in load_providers() if domain in p.domains), None)


def by_mx_host(host: str) -> Provider | None:
    """The provider whose longest (most specific) MX pattern matches `host`."""
    matches = [
        (len(pattern), provider)
        for provider in load_providers()
        for pattern in provider.mx_patterns
        if mx_pattern_matches(pattern, host)
    ]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def _provider(entry: dict[str, Any]) -> Provider:
    provider_id = entry["id"]
    incoming = tuple(_candidate(item, Protocol(item["protocol"])) for item in entry["incoming"])
    outgoing = tuple(_candidate(item, Protocol.SMTP) for item in entry["outgoing"])
    if not incoming or not outgoing:
        raise ValueError(f"{provider_id}: needs incoming and outgoing servers")
    if any(c.protocol not in (Protocol.IMAP, Protocol.POP3) for c in incoming):
        raise ValueError(f"{provider_id}: incoming servers are IMAP or POP3")
    domains = tuple(entry["domains"])
    patterns = tuple(entry["mx"])
    for name in domains + tuple(p.removeprefix("*.") for p in patterns):
        if not HOSTNAME.match(name):
            raise ValueError(f"{provider_id}: {name!r} is not a lower-case host name")
    return Provider(
        id=provider_id,
        name=entry["name"],
        domains=domains,
        mx_patterns=patterns,
        incoming=incoming,
        outgoing=outgoing,
        notes=tuple(entry["notes"]),
        oauth=entry.get("oauth"),
    )


def _candidate(item: dict[str, Any], protocol: Protocol) -> Candidate:
    server = Server(item["host"], int(item["port"]), Security(item["security"]))
    if server.security is Security.NONE:
        raise ValueError(f"{server.host}: the table never lists unencrypted servers")
    return Candidate(protocol, server, item.get("username", "%EMAILADDRESS%"))
