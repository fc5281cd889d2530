"""The Celery plumbing: a task goes through the real Redis broker to a running worker."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import User
from mailbox.tasks import ping
from tests.harness.celery_worker import CeleryWorker
from tests.tasks.crash_tasks import crash_once
from webmail.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]


def test_it_runs_a_task_on_the_worker_and_returns_its_result(celery_worker: CeleryWorker) -> None:
    User.objects.create_user("alice", password="x")

    result = ping.delay("hello").get(timeout=20)

    assert result["echo"] == "hello"
    # The worker reads the same test database as this process, committed rows included.
    assert result["database"] == str(connection.settings_dict["NAME"])
    assert result["users"] == 1


def test_it_uses_this_runs_own_broker_keys(celery_worker: CeleryWorker) -> None:
    """Two suites sharing one Redis must not take each other's tasks."""
    async_result = ping.apply_async(args=["isolated"], countdown=0)
    async_result.get(timeout=20)

    with app.connection_for_write() as conn:
        keys = [key.decode() for key in conn.default_channel.client.keys("*")]
    ours = [key for key in keys if key.startswith(settings.CELERY_KEY_PREFIX)]
    assert ours, "the broker wrote no keys under this run's prefix"
    assert not any(key in ("default", "send", "sync") for key in keys)


def test_send_tasks_go_to_the_send_queue() -> None:
    route = app.amqp.router.route({}, "mailbox.tasks.send.deliver")
    assert route["queue"].name == "send"
    route = app.amqp.router.route({}, "mailbox.tasks.sync.sync_account")
    assert route["queue"].name == "sync"
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]


def test_a_task_whose_worker_dies_is_delivered_again(
    celery_worker: CeleryWorker, tmp_path: Path
) -> None:
    marker = tmp_path / "crashed"

    result = crash_once.delay(str(marker)).get(timeout=60)

    assert marker.exists(), "the first delivery never ran"
    assert result == "ran again"
