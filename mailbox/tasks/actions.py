"""Replaying a person's actions on the mail server: thin tasks, account ids in.

Safe to run twice or side by side: the account's lease lets one replay (or sync) in at a time,
and the one that waits retries shortly; every action is claimed with a conditional UPDATE and
replayed idempotently (mailbox/services/actions/replay.py).
"""

from celery import shared_task

from mailbox.services.actions import accounts_with_due_actions, replay_account
from mailbox.services.sync import AccountBusy

BUSY_RETRY_SECONDS = 1.0
BUSY_RETRY_CAP_SECONDS = 60.0  # a first sync can hold the lease for minutes
# Longer waits are left to beat's replay_due_actions: a countdown longer than the broker's
# visibility timeout would have Redis hand the waiting task out again and again.
MAX_COUNTDOWN_SECONDS = 600.0


@shared_task(name="mailbox.tasks.actions.replay_actions", bind=True, max_retries=None)
def replay_actions(self, account_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    try:
        report = replay_account(account_id, owner=f"task:{self.request.id}")
    except AccountBusy:
        # A sync holds the account; it will not undo our changes (it skips waiting ones).
        delay = min(BUSY_RETRY_SECONDS * 2**self.request.retries, BUSY_RETRY_CAP_SECONDS)
        raise self.retry(countdown=delay) from None
    if report.retry_in is not None and report.retry_in <= MAX_COUNTDOWN_SECONDS:
        raise self.retry(countdown=report.retry_in)
    return report.as_json()


@shared_task(name="mailbox.tasks.actions.replay_due_actions")
def replay_due_actions() -> int:
    """Beat's safety net: a replay for every account with a change due."""
    account_ids = accounts_with_due_actions()
    for account_id in account_ids:
        replay_actions.delay(account_id)
    return len(account_ids)
