"""Guessing: probe the usual names and ports of a domain, all at once.

Candidates are listed best first (IMAP before POP3, implicit TLS before STARTTLS, the more
specific name before mail.<domain>); the first one, in that order, whose server greeted over
a verified certificate wins, without waiting for worse-ranked probes.
"""

import logging

from accounts.discovery.parallel import background, first_best
from accounts.discovery.probe import probe
from accounts.discovery.types import Candidate, Discovery, EmailAddress, Source
from mailbox.protocols.errors import MailProtocolError
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server

log = logging.getLogger(__name__)

# (protocol, name prefix, port, security), best first.
INCOMING_GUESSES: tuple[tuple[Protocol, str, int, Security], ...] = (
    (Protocol.IMAP, "imap", 993, Security.TLS),
    (Protocol.IMAP, "mail", 993, Security.TLS),
    (Protocol.IMAP, "imap", 143, Security.STARTTLS),
    (Protocol.IMAP, "mail", 143, Security.STARTTLS),
    (Protocol.POP3, "pop", 995, Security.TLS),
    (Protocol.POP3, "pop3", 995, Security.TLS),
    (Protocol.POP3, "mail", 995, Security.TLS),
    (Protocol.POP3, "pop", 110, Security.STARTTLS),
    (Protocol.POP3, "pop3", 110, Security.STARTTLS),
    (Protocol.POP3, "mail", 110, Security.STARTTLS),
)
OUTGOING_GUESSES: tuple[tuple[Protocol, str, int, Security], ...] = (
    (Protocol.SMTP, "smtp", 465, Security.TLS),
    (Protocol.SMTP, "mail", 465, Security.TLS),
    (Protocol.SMTP, "smtp", 587, Security.STARTTLS),
    (Protocol.SMTP, "mail", 587, Security.STARTTLS),
)

NOTE = (
    "These servers were guessed from the domain name: they answered with a trusted "
    "certificate, but check them with your provider. Your user name may be only the part "
    "before the @."
)


def candidates(
    domain: str, guesses: tuple[tuple[Protocol, str, int, Security], ...]
) -> list[Candidate]:
    return [
        Candidate(protocol, Server(f"{prefix}.{domain}", port, security))
        for protocol, prefix, port, security in guesses
    ]


def discover(email: EmailAddress, policy: NetworkPolicy, deadline: float) -> Discovery | None:
    """The best answering incoming and outgoing servers, or None if either side has none."""
    incoming = candidates(email.domain, INCOMING_GUESSES)
    outgoing = candidates(email.domain, OUTGOING_GUESSES)
    with background(len(incoming) + len(outgoing)) as executor:
        incoming_futures = [executor.submit(_try, c, policy) for c in incoming]
        outgoing_futures = [executor.submit(_try, c, policy) for c in outgoing]
        found_in = first_best(incoming_futures, deadline)
        found_out = first_best(outgoing_futures, deadline) if found_in else None
    if found_in is None or found_out is None:
        return None
    return Discovery(
        source=Source.GUESS,
        protocol=found_in.protocol,
        incoming=found_in.server,
        outgoing=found_out.server,
        username=email.address,
        outgoing_username=email.address,
        notes=(NOTE,),
    )


def _try(candidate: Candidate, policy: NetworkPolicy) -> Candidate | None:
    try:
        probe(candidate.protocol, candidate.server, policy)
    except MailProtocolError as exc:
        log.debug("guess %s: %s", candidate.server, exc)
        return None
    return candidate
