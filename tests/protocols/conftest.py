"""Fixtures for the protocol layer's tests: fake servers, a silent listener, and Dovecot +
Postfix whose certificate comes from a CA nobody trusts."""

import socket
from collections.abc import Callable, Iterator

import pytest

from tests.harness.certs import TestCA
from tests.harness.mail_fixtures import start_mail_servers, stop_mail_servers
from tests.harness.mailservers import MailServerOptions, MailServers
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


@pytest.fixture(scope="session")
def foreign_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A CA that SSL_CERT_FILE (the session's test CA) does not include."""
    return TestCA(tmp_path_factory.mktemp("foreign-ca"))


@pytest.fixture(scope="session")
def foreign_servers(foreign_ca: TestCA) -> Iterator[MailServers]:
    """Dovecot and Postfix on 127.0.0.1 whose certificate is signed by `foreign_ca`."""
    servers = start_mail_servers(foreign_ca, MailServerOptions())
    yield servers
    stop_mail_servers(servers)
