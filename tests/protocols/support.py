"""Small helpers shared by the protocol tests."""

import dataclasses
from pathlib import Path

from mailbox.protocols.check import CheckResult, check_incoming, check_outgoing
from mailbox.protocols.types import Credentials, NetworkPolicy, Protocol, Security, Server
from tests.harness.mailservers import MailServers, MailUser

IMAP, POP3, SMTP = Protocol.IMAP, Protocol.POP3, Protocol.SMTP
TLS, STARTTLS, NONE = Security.TLS, Security.STARTTLS, Security.NONE

# Which port of MailEndpoints serves each protocol and security.
PORT_FIELDS = {
    (IMAP, TLS): "imaps_port",
    (IMAP, STARTTLS): "imap_port",
    (IMAP, NONE): "imap_port",
    (POP3, TLS): "pop3s_port",
    (POP3, STARTTLS): "pop3_port",
    (POP3, NONE): "pop3_port",
    (SMTP, TLS): "submissions_port",
    (SMTP, STARTTLS): "submission_port",
    (SMTP, NONE): "submission_port",
}
STANDARD_PORTS = {
    (IMAP, TLS): 993,
    (IMAP, STARTTLS): 143,
    (IMAP, NONE): 143,
    (POP3, TLS): 995,
    (POP3, STARTTLS): 110,
    (POP3, NONE): 110,
    (SMTP, TLS): 465,
    (SMTP, STARTTLS): 587,
    (SMTP, NONE): 587,
}


def policy(**changes: object) -> NetworkPolicy:
    """Loopback allowed, short timeouts: every test should finish in about a second."""
    return dataclasses.replace(NetworkPolicy(timeout=5, allow_private=True), **changes)  # type: ignore[arg-type]


def server_for(servers: MailServers, protocol: Protocol, security: Security) -> Server:
    endpoints = servers.endpoints
    return Server(endpoints.host, getattr(endpoints, PORT_FIELDS[protocol, security]), security)


def credentials(user: MailUser, password: str | None = None) -> Credentials:
    return Credentials(user.login, user.password if password is None else password)


def check(
    protocol: Protocol,
    server: Server,
    creds: Credentials,
    net_policy: NetworkPolicy,
    pinned: str | None = None,
) -> CheckResult:
    if protocol is SMTP:
        return check_outgoing(server, creds, net_policy, pinned)
    return check_incoming(protocol, server, creds, net_policy, pinned)


def certificate_file(servers: MailServers) -> Path:
    """The PEM file Dovecot and Postfix of `servers` both present."""
    return servers.dovecot.settings.cert.cert
