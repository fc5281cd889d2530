"""Sign-in checks: "Test connection" for the incoming (IMAP, POP3) and outgoing (SMTP) server.

Each check connects for real (TLS verified, or the pinned certificate), signs in, learns what
later code wants to know, and logs out. Failures are the typed errors of `errors.py`, which
services turn into plain words; a CertificateUntrusted carries the presented certificate's
fingerprint, so a person can choose to trust exactly that certificate.
"""

from dataclasses import dataclass

from mailbox.protocols import imap, net, pop3, smtp
from mailbox.protocols.types import Credentials, NetworkPolicy, Protocol, Server


@dataclass(frozen=True)
class CheckResult:
    """What a successful sign-in taught us about a server."""

    protocol: Protocol
    server: Server
    # Upper-case names: IMAP CAPABILITY after sign-in, POP3 CAPA, SMTP EHLO keywords.
    capabilities: frozenset[str]
    certificate_fingerprint: str | None  # of the certificate presented; None in plain text
    size_limit: int | None = None  # SMTP SIZE in bytes (0: no limit; None: not announced)
    auth_mechanisms: frozenset[str] = frozenset()  # SMTP AUTH

    @property
    def has_idle(self) -> bool:
        return "IDLE" in self.capabilities

    @property
    def has_condstore(self) -> bool:
        return bool({"CONDSTORE", "QRESYNC"} & self.capabilities)  # QRESYNC implies it

    @property
    def has_qresync(self) -> bool:
        return "QRESYNC" in self.capabilities

    @property
    def has_special_use(self) -> bool:
        return "SPECIAL-USE" in self.capabilities

    @property
    def has_uidl(self) -> bool:
        return "UIDL" in self.capabilities


def check_incoming(
    protocol: Protocol,
    server: Server,
    credentials: Credentials,
    policy: NetworkPolicy,
    pinned_fingerprint: str | None = None,
) -> CheckResult:
    """Signs in to an IMAP or POP3 server and out again; raises MailProtocolError subclasses."""
    protocol = Protocol(protocol)
    if protocol is Protocol.IMAP:
        with imap.session(server, credentials, policy, pinned_fingerprint) as client:
            return CheckResult(
                protocol,
                server,
                imap.capabilities(client),
                net.peer_fingerprint(client.socket()),
            )
    if protocol is Protocol.POP3:
        with pop3.session(server, credentials, policy, pinned_fingerprint) as client:
            return CheckResult(
                protocol, server, pop3.capabilities(client), net.peer_fingerprint(client.sock)
            )
    raise ValueError(f"{protocol} is not a protocol for incoming mail")


def check_outgoing(
    server: Server,
    credentials: Credentials,
    policy: NetworkPolicy,
    pinned_fingerprint: str | None = None,
) -> CheckResult:
    """Signs in to an SMTP submission server and out again; raises MailProtocolError subclasses."""
    with smtp.session(server, credentials, policy, pinned_fingerprint) as client:
        return CheckResult(
            Protocol.SMTP,
            server,
            smtp.extensions(client),
            net.peer_fingerprint(client.sock),  # type: ignore[arg-type]
            size_limit=smtp.size_limit(client),
            auth_mechanisms=smtp.auth_mechanisms(client),
        )
