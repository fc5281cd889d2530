"""Parsing a clientConfig v1.1 file into a Discovery, safely.

defusedxml refuses DTDs (and with them entity bombs and external entities). Servers the file
offers without encryption (socketType "plain") are skipped, never proposed; host names must
be plain DNS names once Thunderbird's placeholders are filled in.
"""

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from accounts.discovery.types import (
    HOSTNAME,
    Candidate,
    Discovery,
    EmailAddress,
    Source,
    best_candidate,
    discovery_from,
)
from mailbox.protocols.types import Protocol, Security, Server

SOCKET_TYPES = {"SSL": Security.TLS, "STARTTLS": Security.STARTTLS, "PLAIN": Security.NONE}
INCOMING_TYPES = {"imap": Protocol.IMAP, "pop3": Protocol.POP3}
OUTGOING_TYPES = {"smtp": Protocol.SMTP}
MAX_TEXT = 255  # characters of a host name, user name or display name we keep
OAUTH_ONLY_NOTE = "This provider asks for OAuth sign-in: a password may be refused."


class AutoconfigInvalid(ValueError):
    """Not a usable clientConfig document (or a dangerous one)."""


def parse(body: bytes, email: EmailAddress) -> Discovery | None:
    """The best encrypted servers of the file; None when it offers none on one side."""
    provider = _email_provider(body)
    incoming = _candidates(provider, "incomingServer", INCOMING_TYPES, email)
    outgoing = _candidates(provider, "outgoingServer", OUTGOING_TYPES, email)
    notes = [f"These settings are published for {email.domain} (autoconfig)."]
    best_in = best_candidate(incoming)
    if best_in is not None and incoming[best_in] == {"oauth2"}:
        notes.append(OAUTH_ONLY_NOTE)
    return discovery_from(
        Source.AUTOCONFIG,
        email,
        incoming,
        outgoing,
        provider=_limited(provider.get("id")) or None,
        provider_name=_text(provider, "displayName") or None,
        notes=tuple(notes),
    )


def _email_provider(body: bytes) -> Element:
    try:
        root = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, ParseError) as exc:
        raise AutoconfigInvalid(f"not a safe XML document: {type(exc).__name__}") from exc
    if root.tag != "clientConfig":
        raise AutoconfigInvalid("not a clientConfig document")
    provider = root.find("emailProvider")
    if provider is None:
        raise AutoconfigInvalid("no emailProvider element")
    return provider


def _candidates(
    provider: Element, tag: str, types: dict[str, Protocol], email: EmailAddress
) -> dict[Candidate, set[str]]:
    """Usable servers of one kind, in document order, with their authentication methods."""
    found: dict[Candidate, set[str]] = {}
    for element in provider.findall(tag):
        candidate = _candidate(element, types, email)
        if candidate is not None:
            methods = {_limited(a.text).lower() for a in element.findall("authentication")}
            found.setdefault(candidate, methods)
    return found


def _candidate(
    element: Element, types: dict[str, Protocol], email: EmailAddress
) -> Candidate | None:
    protocol = types.get((element.get("type") or "").lower())
    security = SOCKET_TYPES.get(_text(element, "socketType").upper())
    if protocol is None or security is None or security is Security.NONE:
        return None  # unknown kinds (exchange, ...) and plain text are never proposed
    host = email.expand(_text(element, "hostname")).lower().rstrip(".")
    port = _text(element, "port")
    if not HOSTNAME.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    username = _text(element, "username") or "%EMAILADDRESS%"
    return Candidate(protocol, Server(host, int(port), security), username)


def _text(element: Element, child: str) -> str:
    return _limited(element.findtext(child))


def _limited(value: str | None) -> str:
    return (value or "").strip()[:MAX_TEXT]
