"""Probes against scripted servers, for what Dovecot and Postfix never do.

A real server cannot be made to inject bytes after its STARTTLS "go ahead" or to greet and
then withhold STARTTLS, so these few cases use a one-connection scripted server.
"""

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from accounts.discovery.probe import probe
from mailbox.protocols.errors import ProtocolFailure, TlsUnavailable
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server
from tests.harness.dns import LocalDnsServer

Script = list[tuple[bytes | None, bytes]]  # (line the client must send or None, reply)


@contextlib.contextmanager
def scripted_server(script: Script) -> Iterator[int]:
    """Serves `script` to one client on 127.0.0.1; yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(5)
                reader = conn.makefile("rb")
                for expected, reply in script:
                    if expected is not None and not reader.readline().startswith(expected):
                        return
                    conn.sendall(reply)
                reader.readline()  # wait for the client to give up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)


@pytest.fixture
def fake_host(dns_server: LocalDnsServer) -> str:
    dns_server.set("fake.example.test", "A", "127.0.0.1")
    return "fake.example.test"


def test_bytes_injected_before_the_imap_handshake_are_refused(
    fake_host: str, policy: NetworkPolicy
) -> None:
    script: Script = [
        (None, b"* OK ready\r\n"),
        (b"d1 CAPABILITY", b"* CAPABILITY IMAP4rev1 STARTTLS\r\nd1 OK done\r\n"),
        (b"d2 STARTTLS", b"d2 OK begin TLS\r\n* injected OK\r\n"),
    ]
    with (
        scripted_server(script) as port,
        pytest.raises(ProtocolFailure, match="before the TLS handshake"),
    ):
        probe(Protocol.IMAP, Server(fake_host, port, Security.STARTTLS), policy)


@pytest.mark.parametrize(
    ("protocol", "script"),
    [
        (
            Protocol.IMAP,
            [
                (None, b"* OK ready\r\n"),
                (b"d1 CAPABILITY", b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nd1 OK done\r\n"),
            ],
        ),
        (Protocol.POP3, [(None, b"+OK ready\r\n"), (b"CAPA", b"+OK\r\nUSER\r\nUIDL\r\n.\r\n")]),
        (
            Protocol.SMTP,
            [
                (None, b"220 ready\r\n"),
                (b"EHLO [", b"250-fake\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"),
            ],
        ),
    ],
)
def test_a_server_without_starttls_does_not_count(
    fake_host: str, policy: NetworkPolicy, protocol: Protocol, script: Script
) -> None:
    with scripted_server(script) as port, pytest.raises(TlsUnavailable):
        probe(protocol, Server(fake_host, port, Security.STARTTLS), policy)


def test_an_endless_line_is_cut_short(fake_host: str, policy: NetworkPolicy) -> None:
    endless = [(None, b"* OK " + b"x" * 100_000)]
    with scripted_server(endless) as port, pytest.raises(ProtocolFailure, match="overlong"):
        probe(Protocol.IMAP, Server(fake_host, port, Security.STARTTLS), policy)
