"""The shape every protocol's connection shares: open, sign in, always hang up.

Each protocol module (imap, pop3, smtp) describes its own steps; this module runs them the
same way for all three: a certificate that fails verification gets its fingerprint read on a
second connection that stops at the TLS handshake and never signs in, and a sign-in that
fails hangs up at once rather than waiting on a server that may not answer.
"""

import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from mailbox.protocols import net
from mailbox.protocols.errors import CertificateUntrusted
from mailbox.protocols.types import Credentials, NetworkPolicy, Server

Client = TypeVar("Client")


@dataclass(frozen=True)
class Steps(Generic[Client]):
    # Connects (and upgrades with STARTTLS) as server.security says; not signed in.
    open: Callable[[Server, NetworkPolicy, ssl.SSLContext, str | None], Client]
    peer_certificate: Callable[[Client], bytes | None]  # DER of the TLS peer
    login: Callable[[Client, Credentials], None]
    close: Callable[[Client], None]  # polite goodbye, never raises
    abandon: Callable[[Client], None]  # hang up, never raises
    ready: Callable[[Client], None] | None = None  # after opening, e.g. SMTP's second EHLO


def connect(
    steps: Steps[Client], server: Server, policy: NetworkPolicy, pinned: str | None
) -> Client:
    """An open connection, not signed in; CertificateUntrusted carries the fingerprint."""
    try:
        client = steps.open(server, policy, net.tls_context(policy, pinned), pinned)
    except CertificateUntrusted as error:
        if error.fingerprint is None:
            error.fingerprint = net.presented_fingerprint(
                lambda probe: _certificate_of(steps, server, policy, probe)
            )
        raise
    if steps.ready is not None:
        try:
            steps.ready(client)
        except BaseException:
            steps.abandon(client)
            raise
    return client


def _certificate_of(
    steps: Steps[Client], server: Server, policy: NetworkPolicy, probe: ssl.SSLContext
) -> bytes:
    """Up to the handshake, then hang up: this connection is not verified, so no sign-in."""
    client = steps.open(server, policy, probe, None)
    try:
        return steps.peer_certificate(client) or b""
    finally:
        steps.abandon(client)


@contextmanager
def session(
    steps: Steps[Client],
    server: Server,
    credentials: Credentials,
    policy: NetworkPolicy,
    pinned: str | None,
) -> Iterator[Client]:
    """A signed-in connection, closed at the end."""
    client = connect(steps, server, policy, pinned)
    try:
        steps.login(client, credentials)
    except BaseException:
        steps.abandon(client)
        raise
    try:
        yield client
    finally:
        steps.close(client)
