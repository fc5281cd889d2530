"""A real Celery worker killed (SIGKILL, pool included) in the middle of a sync's body batches;
the next sync completes, checked on content. Its own queue, so no other worker takes the task."""

import time
from collections.abc import Callable

import pytest
from django.db import connection

from accounts.models import MailAccount, User
from mailbox.models import Message
from mailbox.models.messages import BodyState
from mailbox.protocols.types import Security, Server
from mailbox.services.sync import sync_account
from mailbox.tasks.sync import sync_account_task
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.harness.celery_worker import CeleryWorker
from tests.harness.mailservers import MailServers
from tests.mailbox.test_sync_faults import assert_same_as_server, free_lease
from webmail.celery import app

QUEUE = "kill-test"


@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sync_then_the_next_sync_completes(
    private_mail_servers: Callable[..., MailServers], tmp_path, test_ca
) -> None:  # type: ignore[no-untyped-def]
    servers = private_mail_servers()
    user = servers.add_user("killed@example.test", "pw-killed")
    servers.seed(user.address, list(messages.volume(3000)))
    e = servers.endpoints
    account = make_account(
        User.objects.create_user("owner"),
        user.address,
        password=user.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
    )
    worker = CeleryWorker(
        app,
        database_name=str(connection.settings_dict["NAME"]),
        log_file=tmp_path / "worker.log",
        queues=(QUEUE,),
        concurrency=1,
        name="doomed",
    )
    worker.start()
    try:
        sync_account_task.apply_async(args=[account.pk], queue=QUEUE)
        deadline = time.monotonic() + 120
        while not Message.objects.filter(account=account, body_state=BodyState.COMPLETE).exists():
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.05)
        worker.kill()  # in the middle of the bodies: some stored, most not
    finally:
        worker.kill()
    bodies_before = Message.objects.filter(account=account, body_state=BodyState.COMPLETE).count()
    assert 0 < bodies_before < 3000
    free_lease(MailAccount.objects.get(pk=account.pk))  # what the lease's expiry does

    report = sync_account(account.pk)

    assert report.error == ""
    assert_same_as_server(account, servers, user)
