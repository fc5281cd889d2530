"""Fixtures for discovery tests: a policy pointed at the local DNS server, silent listeners."""

import contextlib
import socket
from collections.abc import Callable, Iterator

import pytest

from mailbox.protocols.types import NetworkPolicy
from tests.harness.certs import TestCA
from tests.harness.dns import LocalDnsServer

SILENT_HOST = "127.0.0.33"  # no fixture server lives here

SilentListener = Callable[..., str]


@pytest.fixture
def policy(dns_server: LocalDnsServer, test_ca: TestCA) -> NetworkPolicy:
    """Names come from the local DNS server; loopback addresses are allowed (the fixtures)."""
    return NetworkPolicy(timeout=2.0, allow_private=True, dns_server=dns_server.address)


@pytest.fixture
def strict_policy(dns_server: LocalDnsServer, test_ca: TestCA) -> NetworkPolicy:
    """As an operator's default: loopback and private addresses are refused."""
    return NetworkPolicy(timeout=2.0, allow_private=False, dns_server=dns_server.address)


@pytest.fixture
def silent_listener() -> Iterator[SilentListener]:
    """silent_listener(*ports) -> the address of sockets that listen and never accept.

    Clients connect (or wait for the handshake) and then hear nothing, as from a host that
    has fallen silent. Closing them at teardown resets whatever is still waiting.
    """
    sockets: list[socket.socket] = []

    def listen(*ports: int) -> str:
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((SILENT_HOST, port))
            sock.listen(1)
            sockets.append(sock)
        return SILENT_HOST

    yield listen
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.close()
