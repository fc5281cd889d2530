"""Fixtures for the protocol layer's tests: fake servers and a silent listener.

`foreign_servers` (Dovecot + Postfix with a certificate nobody trusts) is in
tests/harness/mail_fixtures.py, for the account pages too."""

import socket
from collections.abc import Callable, Iterator

import pytest

from tests.protocols.fakes import FakeServer, Reply


@pytest.fixture
def fake_server() -> Iterator[Callable[[bytes, Reply], FakeServer]]:
    """fake_server(greeting, reply) -> a started FakeServer; all closed at teardown."""
    servers: list[FakeServer] = []

    def make(greeting: bytes, reply: Reply) -> FakeServer:
        servers.append(FakeServer(greeting, reply).start())
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def silent_listener() -> Iterator[socket.socket]:
    """A socket that listens (the kernel completes the handshake) but never accepts or talks."""
    with socket.create_server(("127.0.0.1", 0), backlog=4) as listener:
        yield listener
