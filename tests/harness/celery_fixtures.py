"""Fixtures for task tests: a real Celery worker consuming this run's queues."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from tests.harness.celery_worker import CeleryWorker
from tests.harness.certs import TestCA
from webmail.celery import app


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None, test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryWorker]:
    """One worker for the session, stopped before the test database is dropped.

    Tests that use it must commit their data (`@pytest.mark.django_db(transaction=True)`).
    It starts after `test_ca`, so it inherits SSL_CERT_FILE and trusts the test servers.
    """
    worker = CeleryWorker(
        app,
        database_name=str(connection.settings_dict["NAME"]),
        log_file=tmp_path_factory.mktemp("celery") / "worker.log",
    )
    worker.start()
    yield worker
    worker.stop()
    # Drop this run's leftover broker keys (they all carry the run's prefix).
    prefix = settings.CELERY_KEY_PREFIX
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
