"""The worker killed (SIGKILL, its pool included) in the middle of a send, and the broker (a
private Redis) restarted while messages are being sent: each message still reaches Bob's
mailbox exactly once, or is marked unknown and not sent again.

The workers here get a two-second lease and a long network time-out through the environment
they inherit, so a killed worker's message is free again soon, while a live one stalled by
the fault proxy keeps waiting until it is killed.
"""

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.db import connection
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import OutgoingMessage
from mailbox.protocols.mime_build import (
    OutgoingAttachment,
    OutgoingDraft,
    build_message,
    new_message_id,
)
from mailbox.services import outbox
from mailbox.tasks.send import send_due, send_message_task
from tests.harness.celery_worker import CeleryWorker, app_on_broker
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.redis_server import PrivateRedis
from tests.harness.sending import account_for, copies, message_id_of, outgoing, wait_for
from tests.mailbox.test_sync_redis_restart import keep_running, wait_for_the_worker
from webmail.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]

LEASE_SECONDS = 2
QUEUE = "send-crash-test"  # its own queue: no other worker takes these tasks
# Far more than the socket buffers between the worker and the proxy hold: a worker stalled
# mid-body is still writing it (state `sending`), it has not reached the end of data.
HUGE = OutgoingAttachment(
    "huge.bin", "application/octet-stream", random.Random(8).randbytes(6_000_000)
)


@pytest.fixture(autouse=True)
def short_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the workers started here (they inherit the environment)."""
    monkeypatch.setenv("MAIL_SEND_LEASE_SECONDS", str(LEASE_SECONDS))
    monkeypatch.setenv("MAIL_NETWORK_TIMEOUT_SECONDS", "60")


def queue(account: MailAccount, bob: MailUser, subject: str, huge: bool = False) -> OutgoingMessage:
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", bob.address),),
        subject=subject,
        text="Hello Bob.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
        attachments=(HUGE,) if huge else (),
    )
    built = build_message(draft, allow_private_hosts=True)
    return outbox.do_queue_message(account, built, send_at=timezone.now())


def worker(name: str, folder: Path, on: Celery = app, **options: Any) -> CeleryWorker:
    """A started worker on the test database (`on`: the app whose broker it uses)."""
    started = CeleryWorker(
        on,
        database_name=str(connection.settings_dict["NAME"]),
        log_file=folder / f"{name}.log",
        name=name,
        **options,
    )
    started.start()
    return started


def lease_over(message: OutgoingMessage) -> None:
    until = outgoing(message.pk).claimed_until
    assert until is not None
    wait_for(lambda: timezone.now() > until, "the dead worker's lease over", timeout=10)


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("stalled_at", "ends"),
    [("sending", ("sent", 2)), ("dot_sent", ("unknown", 1))],
    ids=["mid-body: sent again", "after the dot: unknown"],
)
def test_a_worker_killed_mid_send_leaves_exactly_one_copy(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    fault_proxy: Callable[..., FaultProxy],
    tmp_path,
    stalled_at: str,
    ends: tuple[str, int],
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = mail_user(local="killed-alice"), mail_user(local="killed-bob")
    e = mail_servers.endpoints
    proxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    if stalled_at == "sending":
        proxy.hold_after(100_000, direction="client_to_server", times=1)
    else:
        proxy.hold_reply_after_data_dot(times=1)
    account = account_for(alice, mail_servers, f"killed-{stalled_at}", smtp_port=proxy.port)
    message = queue(account, bob, f"killed at {stalled_at}", huge=stalled_at == "sending")
    doomed = worker("doomed-sender", tmp_path, queues=(QUEUE,), concurrency=1)
    try:
        send_message_task.apply_async(args=[message.pk], queue=QUEUE)
        assert proxy.wait_until_held(30), doomed.log()
        wait_for(lambda: outgoing(message.pk).state == stalled_at, stalled_at, log=doomed.log())
        time.sleep(0.3)  # still there: stalled, not passing through
        assert outgoing(message.pk).state == stalled_at
        doomed.kill()
    finally:
        doomed.kill()
    proxy.release()  # the proxy lets go of the dead connection
    assert outgoing(message.pk).state == stalled_at
    lease_over(message)

    successor = worker("successor-sender", tmp_path, queues=(QUEUE,), concurrency=1)
    try:
        send_due.apply_async(queue=QUEUE).get(timeout=60)
        send_due.apply_async(queue=QUEUE).get(timeout=60)  # and nothing more at the next one
    finally:
        successor.stop()

    row = outgoing(message.pk)
    assert (row.state, row.attempts) == ends, row.last_error
    assert len(copies(mail_servers, bob, message.message_id)) == 1


@pytest.mark.timeout(90)
def test_a_worker_killed_in_a_batch_keeps_what_went_and_sends_the_rest_once(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    fault_proxy: Callable[..., FaultProxy],
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    """One sweep sends a small message, then a huge one whose body stalls: the first one's
    250 is on record before the second can end, so the killed worker leaves it sent."""
    alice, bob = mail_user(local="batch-alice"), mail_user(local="batch-bob")
    e = mail_servers.endpoints
    proxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    proxy.hold_after(100_000, direction="client_to_server", times=1)
    account = account_for(alice, mail_servers, "batch-alice", smtp_port=proxy.port)
    small = queue(account, bob, "small first")
    huge = queue(account, bob, "huge second", huge=True)
    doomed = worker("doomed-batch", tmp_path, queues=(QUEUE,), concurrency=1)
    try:
        send_due.apply_async(queue=QUEUE)
        assert proxy.wait_until_held(30), doomed.log()
        wait_for(lambda: outgoing(huge.pk).state == "sending", "sending", log=doomed.log())
        assert outgoing(small.pk).state == "sent"
        doomed.kill()
    finally:
        doomed.kill()
    proxy.release()
    lease_over(huge)

    successor = worker("successor-batch", tmp_path, queues=(QUEUE,), concurrency=1)
    try:
        send_due.apply_async(queue=QUEUE).get(timeout=60)
    finally:
        successor.stop()

    assert [outgoing(m.pk).state for m in (small, huge)] == ["sent", "sent"]
    assert len(copies(mail_servers, bob, small.message_id)) == 1
    assert len(copies(mail_servers, bob, huge.message_id)) == 1


MESSAGES = 40
FAN_OUT = "mailbox.tasks.send.send_due"
SEND = "mailbox.tasks.send.send_message"


def sent_count(account: MailAccount) -> int:
    return OutgoingMessage.objects.filter(account=account, state="sent").count()


@pytest.mark.timeout(120)
def test_redis_restarted_while_sending_delivers_every_message_once(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    private_redis: Callable[[], PrivateRedis],
    tmp_path,
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    broker = private_redis()
    monkeypatch.setenv("CELERY_RESULT_BACKEND", broker.url)  # see app_on_broker()
    alice, bob = mail_user(local="restart-alice"), mail_user(local="restart-bob")
    account = account_for(alice, mail_servers, "restart-alice")
    messages = [queue(account, bob, f"restart {n}") for n in range(MESSAGES)]
    broker_app = app_on_broker(app, broker.url)
    sender = worker("restart-sender", tmp_path, on=broker_app, broker_url=broker.url)
    deaths: list[str] = []
    try:
        for message in messages:  # what Send does for each, right after its commit
            broker_app.send_task(SEND, args=[message.pk])
        wait_for(lambda: sent_count(account) > 0, "a first message sent", log=sender.log())

        broker.restart(down_for=1.0)  # queued tasks and results gone

        at_restart = sent_count(account)
        assert 0 < at_restart < MESSAGES
        restarted_at = time.monotonic()
        while sent_count(account) < MESSAGES:  # beat's next ticks, nothing else
            assert time.monotonic() - restarted_at < 60, (
                f"{sent_count(account)}/{MESSAGES} sent 60s after the restart:\n{sender.log()}"
            )
            keep_running(sender, deaths)
            broker_app.send_task(FAN_OUT)
            time.sleep(1.0)
        wait_for_the_worker(sender, broker_app, deaths, timeout=30)
    finally:
        sender.stop()

    assert not OutgoingMessage.objects.filter(account=account).exclude(state="sent").exists()
    mail_servers.wait_for_messages(bob.address, MESSAGES, timeout=20)
    received = [message_id_of(m.raw) for m in mail_servers.messages(bob.address)]
    assert sorted(received) == sorted(m.message_id for m in messages)  # each exactly once
    print(f"\nrestart after {at_restart}/{MESSAGES} sent; worker deaths: {len(deaths)}")
    assert not deaths, deaths
