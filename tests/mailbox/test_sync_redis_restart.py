"""Redis (the Celery broker) restarted in the middle of a sync's body batches, its data lost.

A real worker whose broker and result backend are a private redis-server syncs a real Dovecot
account, started the way beat starts it (the `sync_due_accounts` fan-out). When some but not
all bodies are stored, that Redis is stopped and started again on the same port, empty. After
it, nobody re-queues anything by hand: the test only sends beat's fan-out again, as beat's
next ticks would. The account ends fully synced, checked on content against the server, and
a worker takes tasks from the new Redis. The worker must live through the restart (one that
dies is still replaced, as the process supervisor would, so the content checks run; the
test fails at its end).
"""

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection, transaction

from accounts.models import MailAccount
from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation
from mailbox.models.folders import SyncState
from mailbox.models.messages import BodyState
from tests.harness import messages
from tests.harness.celery_worker import CeleryWorker, app_on_broker
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.redis_server import PrivateRedis
from tests.mailbox.test_sync_tasks import account_for
from webmail.celery import app

MESSAGES = 1000  # four body batches of 250: the restart lands after the first or the second
FAN_OUT = "mailbox.tasks.sync.sync_due_accounts"
BEAT_TICK_SECONDS = 1.0  # beat sends every 15 s; the test's lease is 10 s, so tick faster
RECOVERY_SECONDS = 40
# A real restart takes a moment; and the worker's first reconnection attempt, a few ms after
# the connection broke, must find nothing listening, as it would in production.
REDIS_DOWN_SECONDS = 1.0


def bodies_stored(account: MailAccount) -> int:
    return Message.objects.filter(account=account, body_state=BodyState.COMPLETE).count()


def fully_synced(account: MailAccount) -> bool:
    """Every body stored, the inbox marked synced and the lease given back."""
    account.refresh_from_db()
    inbox = Folder.objects.filter(account=account, role="inbox").first()
    return (
        inbox is not None
        and inbox.sync_state == SyncState.SYNCED
        and bodies_stored(account) == MESSAGES
        and account.sync_lease_owner == ""
    )


@contextmanager
def sync_held_up(account: MailAccount) -> Iterator[None]:
    """Holds the sync at its next write for a moment (PostgreSQL: the account's row is locked,
    which its lease renewal after each batch needs; SQLite: the database's write lock), so
    that the restart surely lands in the middle of it (a batch of bodies takes ~0.1 s)."""
    with transaction.atomic():
        MailAccount.objects.select_for_update().filter(pk=account.pk).exists()
        yield


def unacked_tasks(broker: PrivateRedis) -> bytes:
    """What kombu keeps of the tasks being worked on (to deliver again if a worker dies)."""
    with redis.Redis.from_url(broker.url, socket_timeout=2) as client:
        return b"".join(client.hvals(f"{settings.CELERY_KEY_PREFIX}unacked"))


def keep_running(worker: CeleryWorker, deaths: list[str]) -> None:
    """What the process supervisor does (compose: `restart: unless-stopped`): a worker that
    exited is started again. Each death is recorded with the worker's last words."""
    if worker.alive:
        return
    log = worker.log_file.read_text(errors="replace").splitlines()
    last_words = [line for line in log if "CRITICAL" in line] or log[-5:]
    deaths.append(last_words[-1])
    worker.start()


def wait_for_the_worker(
    worker: CeleryWorker, broker_app: Celery, deaths: list[str], timeout: float
) -> float:
    """Seconds until the worker (or its replacement) answers a ping through the new Redis."""
    started = time.monotonic()
    while True:
        # A new connection each time: the ones this process opened before the restart are dead.
        with broker_app.connection_for_write() as conn:
            if broker_app.control.ping([worker.node_name], timeout=0.5, connection=conn):
                return time.monotonic() - started
        keep_running(worker, deaths)
        assert time.monotonic() - started < timeout, (
            f"no worker answers through the restarted broker after {timeout}s:\n{worker.log()}"
        )


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_redis_restarted_mid_sync_then_the_account_ends_fully_synced(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    private_redis: Callable[[], PrivateRedis],
    tmp_path,
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    broker = private_redis()
    monkeypatch.setenv("CELERY_RESULT_BACKEND", broker.url)  # see app_on_broker()
    user = mail_user(local="restart")
    mail_servers.seed(user.address, list(messages.volume(MESSAGES)))
    account = account_for(user, mail_servers, "owner")
    broker_app = app_on_broker(app, broker.url)
    worker = CeleryWorker(
        broker_app,
        database_name=str(connection.settings_dict["NAME"]),
        log_file=tmp_path / "worker.log",
        queues=("default", "sync"),
        concurrency=2,  # as in the Procfile; and the fan-out runs while a sync holds the other
        name="redis-restart",
        broker_url=broker.url,
    )
    deaths: list[str] = []
    worker.start()
    try:
        # Beat's tick: the new account is due, so one sync task goes to the private broker.
        assert broker_app.send_task(FAN_OUT).get(timeout=20) == 1

        deadline = time.monotonic() + 60
        while (stored := bodies_stored(account)) == 0:
            account.refresh_from_db()
            assert not account.last_error, f"{account.last_error}\n{worker.log()}"
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.02)
        with sync_held_up(account):
            account.refresh_from_db()
            interrupted_task = account.sync_lease_owner.removeprefix("task:")
            assert interrupted_task, "no sync task holds the account's lease"
            assert interrupted_task.encode() in unacked_tasks(broker)

            # Same port, nothing kept: queues, unacked tasks and results are gone.
            broker.restart(down_for=REDIS_DOWN_SECONDS)

            assert interrupted_task.encode() not in unacked_tasks(broker)
            stored_at_restart = bodies_stored(account)
        assert 0 < stored <= stored_at_restart < MESSAGES, (stored, stored_at_restart)
        restarted_at = time.monotonic()

        # Beat's next ticks, and nothing else: the product must finish the account itself.
        ticks = 0
        while not fully_synced(account):
            assert time.monotonic() - restarted_at < RECOVERY_SECONDS, (
                f"not synced {RECOVERY_SECONDS}s after the restart: "
                f"{bodies_stored(account)}/{MESSAGES} bodies, lease "
                f"{account.sync_lease_owner!r} until {account.sync_lease_expires_at}:\n"
                + worker.log()
            )
            keep_running(worker, deaths)
            broker_app.send_task(FAN_OUT)
            ticks += 1
            time.sleep(BEAT_TICK_SECONDS)
        synced_after = time.monotonic() - restarted_at

        # A worker takes tasks from the new Redis: a whole round trip, result included.
        answered_after = wait_for_the_worker(worker, broker_app, deaths, timeout=30)
        assert broker_app.send_task(FAN_OUT).get(timeout=20) in (0, 1)
        log = worker.log_file.read_text(errors="replace")
        print(  # the run's figures (-s)
            f"\nrestart after {stored_at_restart}/{MESSAGES} bodies; synced "
            f"{synced_after:.1f}s later, {ticks} beat ticks; a worker answered "
            f"{answered_after:.1f}s after that; interrupted task "
            f"{'succeeded' if f'[{interrupted_task}] succeeded' in log else 'did not finish'}; "
            f"worker deaths: {len(deaths)}"
        )
    finally:
        worker.stop()

    # On content: every server UID once in the inbox, with the server's exact bytes.
    on_server = {
        message.uid: hashlib.sha256(message.raw).hexdigest()
        for message in mail_servers.messages(user.address)
    }
    assert len(on_server) == MESSAGES
    inbox = Folder.objects.get(account=account, role="inbox")
    locations = list(MessageLocation.objects.filter(folder=inbox).select_related("message"))
    uids = Counter(location.uid for location in locations)
    assert set(uids) == set(on_server)
    assert max(uids.values()) == 1, [uid for uid, count in uids.items() if count > 1]
    for location in locations:
        message = location.message
        assert message.body_state == BodyState.COMPLETE
        raw = storage.read_raw(message.raw_path)
        assert hashlib.sha256(raw).hexdigest() == on_server[location.uid], location.uid
        assert message.sha256 == on_server[location.uid]
    assert Message.objects.filter(account=account).count() == MESSAGES
    account.refresh_from_db()
    assert account.last_error == ""

    # The worker itself must have reconnected (Celery retries the broker on its own).
    # Celery 5.7.0's worker exits instead whenever a late-acknowledged task is running and the
    # consumer is waiting for more (a free pool process): on the connection error it collect()s
    # the connection, which drops its transport, then close()s it; closing the channel restores
    # the unacked task through a Redis pool built from the dropped transport -> AttributeError,
    # no connection error -> "Unrecoverable error". pyproject.toml pins 5.6 for this test.
    assert not deaths, deaths
