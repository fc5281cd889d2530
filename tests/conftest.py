"""Fixtures shared by the whole suite. The real-server fixtures live in tests/harness/."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import redis
from django.conf import settings

from tests.harness.certs import TestCA
from tests.harness.quiesce import settle_test

pytest_plugins = [
    "tests.harness.mail_fixtures",
    "tests.harness.net_fixtures",
    "tests.harness.celery_fixtures",
    "tests.harness.browser_fixtures",
]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(reason: str) -> NoReturn:
    """A real service the test needs is missing: fail in CI, skip (loudly) elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI never skips integration tests)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Before any fixture is torn down: quiet pages, requests and the worker, when the test's
    database is flushed after it (tests/harness/quiesce.py); a rolled-back one has no
    TRUNCATE to wait."""
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    if (
        "live_server" in names
        or "transactional_db" in names
        or (marker is not None and marker.kwargs.get("transaction", False))
    ):
        settle_test(getattr(item, "funcargs", {}))


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache (rate limits, lockouts), this run's keys only.

    Not cache.clear(): that flushes the whole Redis database, broker queues included.
    """
    yield
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCA]:
    """The certificate authority every test server's certificate is signed by.

    The product trusts the system store, which honours SSL_CERT_FILE: pointing it at this CA
    (for this process and the workers it starts) makes the test servers trusted for real.
    """
    ca = TestCA(Path(tmp_path_factory.mktemp("ca")))
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(ca.ca_file)
    yield ca
    if previous is None:
        os.environ.pop("SSL_CERT_FILE", None)
    else:
        os.environ["SSL_CERT_FILE"] = previous
