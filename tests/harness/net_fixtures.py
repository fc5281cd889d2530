"""Fixtures for the local network services: DNS, HTTPS, the fault proxy and a private Redis.

The DNS and HTTPS servers live for the whole session (HTTPS holds 127.0.0.2:443 and :80);
the function-scoped fixtures hand them out with no records, routes or history left over
from the previous test. Fault proxies and private Redis servers are per-test factories.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.harness.certs import TestCA
from tests.harness.dns import LocalDnsServer
from tests.harness.faultproxy import FaultProxy, TlsMode
from tests.harness.https import LocalHttpsServer
from tests.harness.redis_server import PrivateRedis

DNS_ENV_VAR = "MAIL_DNS_SERVER"


@pytest.fixture(scope="session")
def _dns_server_session() -> Iterator[LocalDnsServer]:
    with LocalDnsServer() as server:
        yield server


@pytest.fixture
def dns_server(
    _dns_server_session: LocalDnsServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalDnsServer]:
    """The local DNS server, empty; the product is pointed at it through MAIL_DNS_SERVER."""
    server = _dns_server_session
    server.clear()
    monkeypatch.setenv(DNS_ENV_VAR, server.address)
    yield server
    errors = list(server.errors)
    server.clear()
    if errors:  # a query the server could not answer looks like a time-out in the test
        pytest.fail(f"the local DNS server failed while answering: {errors}", pytrace=False)


@pytest.fixture(scope="session")
def _https_server_session(test_ca: TestCA) -> Iterator[LocalHttpsServer]:
    with LocalHttpsServer(test_ca, http_port=80) as server:
        yield server


@pytest.fixture
def https_server(_https_server_session: LocalHttpsServer) -> Iterator[LocalHttpsServer]:
    """HTTPS on STANDARD_HOST:443 (plain HTTP on :80), with no routes and no recorded requests."""
    _https_server_session.clear()
    yield _https_server_session
    _https_server_session.clear()


FaultProxyFactory = Callable[..., FaultProxy]


@pytest.fixture
def fault_proxy(request: pytest.FixtureRequest) -> Iterator[FaultProxyFactory]:
    """fault_proxy(target_host, target_port, tls=None, ...) -> a started FaultProxy.

    TLS proxies use the session's test CA unless `ca` is given; all are closed at teardown.
    """
    proxies: list[FaultProxy] = []

    def make(
        target_host: str, target_port: int, tls: TlsMode | None = None, **options: Any
    ) -> FaultProxy:
        if tls is not None and options.get("ca") is None:
            options["ca"] = request.getfixturevalue("test_ca")
        proxy = FaultProxy(target_host, target_port, tls=tls, **options)
        proxies.append(proxy)
        return proxy.start()

    yield make
    for proxy in proxies:
        proxy.close()


PrivateRedisFactory = Callable[[], PrivateRedis]


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedisFactory]:
    """private_redis() -> a started PrivateRedis on its own port; all stopped at teardown.
    Without a redis-server that starts, the test fails in CI and is skipped elsewhere."""
    servers: list[PrivateRedis] = []

    def make() -> PrivateRedis:
        from tests.conftest import require_service  # imported late: conftest loads this plugin

        server = PrivateRedis(tmp_path_factory.mktemp("redis"))
        servers.append(server)
        try:
            return server.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            require_service(f"a private redis-server did not start: {exc}")

    yield make
    for server in servers:
        server.stop()
