"""Fixtures for task tests: a real Celery worker consuming this run's queues."""

import time
from collections.abc import Iterator
from functools import partial

import pytest
from django.conf import settings
from django.db import connection

from tests.harness.celery_worker import CeleryWorker
from tests.harness.certs import TestCA
from tests.harness.quiesce import on_settle
from webmail.celery import app


def wait_idle(worker: CeleryWorker, timeout: float = 30.0) -> None:
    """Returns once the worker's queues are empty and it runs and holds no task, twice in a
    row (a task it runs may queue another); at once if it is not running."""
    prefix = settings.CELERY_KEY_PREFIX
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2 and worker.alive:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Celery worker still busy after {timeout}s:\n{worker.log()}")
        with app.connection_for_write() as conn:
            client = conn.default_channel.client
            waiting = sum(client.llen(f"{prefix}{queue}") for queue in worker.queues)
            inspect = app.control.inspect([worker.node_name], timeout=1.0, connection=conn)
            busy = [tasks for found in (inspect.active(), inspect.reserved()) for tasks in
                    (found or {}).values()]  # fmt: skip
        quiet = quiet + 1 if not waiting and not any(busy) else 0
        time.sleep(0.05)


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
    # After every later test, before its database is flushed (tests/harness/quiesce.py).
    on_settle(partial(wait_idle, worker))
    yield worker
    worker.stop()
    # Drop this run's leftover broker keys (they all carry the run's prefix).
    prefix = settings.CELERY_KEY_PREFIX
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
