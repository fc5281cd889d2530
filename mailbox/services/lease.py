"""One sync per account at a time, across every worker: a lease row claimed with a conditional
UPDATE (healthchecks' "0 rows updated → someone else has it").

The lease lives in the database, not in Redis, so a Redis restart cannot hand one account to
two workers. A sync renews its lease as it goes (heartbeat); a worker that died stops renewing,
and once the lease expires another worker takes the account over.
"""

import datetime as dt

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import MailAccount


def _expiry(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=settings.MAIL_SYNC_LEASE_SECONDS)


def claim(account_id: int, owner: str) -> bool:
    """Takes the account's lease if it is free or expired; False when somebody else holds it."""
    now = timezone.now()
    free = Q(sync_lease_expires_at__isnull=True) | Q(sync_lease_expires_at__lt=now)
    claimed = MailAccount.objects.filter(free, pk=account_id, is_enabled=True).update(
        sync_lease_owner=owner, sync_lease_expires_at=_expiry(now)
    )
    return claimed == 1


def renew(account_id: int, owner: str) -> bool:
    """Extends our lease; False when it was taken over (we were too slow: stop syncing)."""
    renewed = MailAccount.objects.filter(pk=account_id, sync_lease_owner=owner).update(
        sync_lease_expires_at=_expiry(timezone.now())
    )
    return renewed == 1


def release(
    account_id: int, owner: str, *, next_sync_in: float | None = None, reschedule: bool = True
) -> None:
    """Gives the lease back and (unless told not to) schedules the next poll."""
    if not reschedule:
        MailAccount.objects.filter(pk=account_id, sync_lease_owner=owner).update(
            sync_lease_owner="", sync_lease_expires_at=None
        )
        return
    account = MailAccount.objects.filter(pk=account_id).only("sync_interval_seconds").first()
    if account is None:
        return
    interval = next_sync_in
    if interval is None:
        interval = account.sync_interval_seconds or settings.MAIL_SYNC_INTERVAL_SECONDS
    MailAccount.objects.filter(pk=account_id, sync_lease_owner=owner).update(
        sync_lease_owner="",
        sync_lease_expires_at=None,
        next_sync_at=timezone.now() + dt.timedelta(seconds=interval),
    )


def due_account_ids(limit: int = 500) -> list[int]:
    """Enabled accounts whose poll is due and whose lease is free, oldest first."""
    now = timezone.now()
    return list(
        MailAccount.objects.filter(is_enabled=True)
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .filter(Q(sync_lease_expires_at__isnull=True) | Q(sync_lease_expires_at__lt=now))
        .order_by(F("next_sync_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )


def take_due(limit: int = 500) -> list[int]:
    """Due accounts, each moved out of "due" before it is handed out (a conditional UPDATE),
    so the next fan-out does not queue it again while its sync waits in the queue. A task
    that is lost makes the account due again once the lease time has passed."""
    taken = []
    hold_until = _expiry(timezone.now())
    for account_id in due_account_ids(limit):
        due = Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=timezone.now())
        if MailAccount.objects.filter(due, pk=account_id).update(next_sync_at=hold_until):
            taken.append(account_id)
    return taken
