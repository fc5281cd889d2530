"""The replay through the real Celery worker, and what it does when it cannot go on yet."""

import datetime as dt
import time
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import PendingAction
from mailbox.models.actions import ActionState
from mailbox.services import lease
from mailbox.services.actions import Flag, do_archive, do_set_flag
from mailbox.services.sync import AccountBusy
from mailbox.tasks.actions import replay_actions, replay_due_actions
from tests.harness.celery_worker import CeleryWorker
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import free_port
from tests.mailbox.test_actions import Mailbox, synced_mailbox
from tests.mailbox.test_actions import box as box  # the fixture, shared


def wait_until_settled(account: MailAccount, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = PendingAction.objects.filter(
        account=account, state__in=[ActionState.PENDING, ActionState.RUNNING]
    )
    while waiting.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting: {list(waiting.values('kind', 'state', 'error'))}")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_the_worker_replays_after_the_sync_that_held_the_account(
    celery_worker: CeleryWorker, mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    box = synced_mailbox(mail_servers, mail_user())
    lease.claim(box.account.pk, "a sync")  # the replay task meets it and retries shortly

    do_set_flag([box.location("One")], Flag.FLAGGED, True)  # each enqueues on commit
    do_archive([box.location("Two")])
    time.sleep(0.2)
    assert PendingAction.objects.filter(state=ActionState.PENDING).count() == 2
    lease.release(box.account.pk, "a sync", reschedule=False)

    wait_until_settled(box.account)
    assert set(PendingAction.objects.values_list("state", flat=True)) == {ActionState.DONE}
    assert "\\Flagged" in box.on_server()["One"].flags
    assert box.location("Two").uid == box.on_server("Archive")["Two"].uid


@pytest.mark.django_db
def test_an_unreachable_server_postpones_without_losing_anything(box: Mailbox, settings) -> None:  # type: ignore[no-untyped-def]
    settings.MAIL_SYNC_INTERVAL_SECONDS = 60
    port = box.account.incoming_port
    MailAccount.objects.filter(pk=box.account.pk).update(incoming_port=free_port())
    do_set_flag([box.location("One")], Flag.FLAGGED, True)

    first = box.replay()
    second = box.replay()  # too early: not even a connection attempt

    action = PendingAction.objects.get()
    assert first.retry_in == 5 and 0 < (second.retry_in or 0) <= 5
    assert (action.state, action.attempts) == (ActionState.PENDING, 1)
    assert "refused the connection" in action.error
    assert box.location("One").is_flagged  # still shown as the person left it

    MailAccount.objects.filter(pk=box.account.pk).update(incoming_port=port)
    PendingAction.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert box.replay().done == 1
    assert PendingAction.objects.get().error == ""
    assert "\\Flagged" in box.on_server()["One"].flags


@pytest.mark.django_db
def test_a_replay_does_not_run_beside_a_sync(box: Mailbox) -> None:
    do_set_flag([box.location("One")], Flag.SEEN, True)
    lease.claim(box.account.pk, "a sync")

    with pytest.raises(AccountBusy):
        box.replay()

    lease.release(box.account.pk, "a sync", reschedule=False)
    assert box.replay().done == 1


@pytest.mark.django_db
def test_beat_finds_accounts_whose_changes_are_due(box: Mailbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    queued: list[int] = []
    monkeypatch.setattr(replay_actions, "delay", queued.append)
    do_set_flag([box.location("One")], Flag.SEEN, True)  # its own task was lost

    assert replay_due_actions() == 1 and queued == [box.account.pk]
    PendingAction.objects.update(next_attempt_at=timezone.now() + dt.timedelta(minutes=1))
    assert replay_due_actions() == 0
