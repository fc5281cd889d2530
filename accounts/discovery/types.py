"""Value types of discovery: the address asked about, candidate servers, the answer."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mailbox.protocols.types import Protocol, Security, Server

# One DNS name in lower-case ASCII, at least two labels ("example.test").
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")


class Source(StrEnum):
    """Where an answer came from, best first (see RANKING)."""

    PROVIDERS = "providers"  # the built-in table, by the address's domain: no network
    AUTOCONFIG = "autoconfig"  # the domain's own Thunderbird-style autoconfig file
    MX = "mx"  # the domain's MX host belongs to a provider of the table
    GUESS = "guess"  # imap./mail./smtp. names that answered with a trusted certificate


# The order in which parallel steps win. The domain owner's own autoconfig file is an explicit
# statement; an MX host at a known provider is an inference (mail may be received there and
# read elsewhere); a guess only shows that a server answered, not that it holds this mailbox.
RANKING: tuple[Source, ...] = (Source.AUTOCONFIG, Source.MX, Source.GUESS)


@dataclass(frozen=True)
class EmailAddress:
    local: str
    domain: str  # lower case, ASCII (IDNA-encoded when the person typed Unicode)

    @classmethod
    def parse(cls, address: str) -> "EmailAddress":
        """Splits an address; the domain is lower-cased. Raises ValueError when malformed."""
        local, at, domain = address.strip().rpartition("@")
        if not at or not local or not domain:
            raise ValueError("an address has a name, an @ and a domain")
        try:
            ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise ValueError("the domain is not a valid name") from exc
        # An all-digit last label is an IP address, not a domain: never probe one by "name".
        if not HOSTNAME.match(ascii_domain) or ascii_domain.rsplit(".", 1)[1].isdigit():
            raise ValueError("the domain is not a valid name")
        return cls(local, ascii_domain)

    @property
    def address(self) -> str:
        return f"{self.local}@{self.domain}"

    def expand(self, template: str) -> str:
        """Fills Thunderbird's placeholders (%EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%)."""
        return (
            template.replace("%EMAILADDRESS%", self.address)
            .replace("%EMAILLOCALPART%", self.local)
            .replace("%EMAILDOMAIN%", self.domain)
        )


@dataclass(frozen=True)
class Candidate:
    """One server a source offers; `username` may hold placeholders."""

    protocol: Protocol
    server: Server
    username: str = "%EMAILADDRESS%"


_PROTOCOL_ORDER = {Protocol.IMAP: 0, Protocol.POP3: 1, Protocol.SMTP: 0}
_SECURITY_ORDER = {Security.TLS: 0, Security.STARTTLS: 1}


def best_candidate(candidates: Iterable[Candidate]) -> Candidate | None:
    """IMAP over POP3, implicit TLS over STARTTLS, then the source's own order; never plain."""
    usable = [c for c in candidates if c.server.security in _SECURITY_ORDER]
    if not usable:
        return None
    return min(
        usable,
        key=lambda c: (_PROTOCOL_ORDER[c.protocol], _SECURITY_ORDER[c.server.security]),
    )


@dataclass(frozen=True)
class Discovery:
    """What discovery proposes for an address; the person can still edit every field."""

    source: Source
    protocol: Protocol  # of the incoming server: IMAP or POP3
    incoming: Server
    outgoing: Server  # SMTP submission
    username: str  # for the incoming server, placeholders already filled in
    outgoing_username: str
    provider: str | None = None  # id in providers.json, or the autoconfig file's id
    provider_name: str | None = None
    notes: tuple[str, ...] = ()
    oauth: str | None = None  # OAuth provider id, for a later sign-in-with flow

    def __post_init__(self) -> None:
        # The promise of point 4: discovery never proposes an unencrypted connection.
        for server in (self.incoming, self.outgoing):
            if server.security not in _SECURITY_ORDER:
                raise ValueError(f"refusing to propose {server.host}:{server.port} unencrypted")
        if self.protocol not in (Protocol.IMAP, Protocol.POP3):
            raise ValueError("the incoming protocol is IMAP or POP3")

    def to_json(self) -> dict[str, Any]:
        """The shape `manage.py mailsettings` prints (issue 3, point 13)."""
        return {
            "source": self.source.value,
            "incoming": {
                "protocol": self.protocol.value,
                "host": self.incoming.host,
                "port": self.incoming.port,
                "security": self.incoming.security.value,
            },
            "outgoing": {
                "host": self.outgoing.host,
                "port": self.outgoing.port,
                "security": self.outgoing.security.value,
            },
            "notes": list(self.notes),
        }


def discovery_from(
    source: Source,
    email: EmailAddress,
    incoming: Iterable[Candidate],
    outgoing: Iterable[Candidate],
    **details: Any,
) -> Discovery | None:
    """The best incoming and outgoing candidates as a Discovery, or None if one side is empty."""
    chosen_in, chosen_out = best_candidate(incoming), best_candidate(outgoing)
    if chosen_in is None or chosen_out is None:
        return None
    return Discovery(
        source=source,
        protocol=chosen_in.protocol,
        incoming=chosen_in.server,
        outgoing=chosen_out.server,
        username=email.expand(chosen_in.username),
        outgoing_username=email.expand(chosen_out.username),
        **details,
    )
