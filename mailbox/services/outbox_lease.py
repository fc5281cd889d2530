"""Keeping an outbox lease alive while a long write runs (a DATA or an APPEND of tens of MB on
a slow link may outlast MAIL_SEND_LEASE_SECONDS).

`LeaseKeeper` is the `on_progress` hook of smtp_send.submit and imap_append.reporting_writes:
called after each slice written, it renews the row's claimed_until once a third of the lease
has passed, with a conditional UPDATE that also checks the row is still ours in the expected
state. If it is not (our lease ran out and another worker took the message), it raises
LeaseLost, and the writer hangs up before the end of the message: the server discards it, and
only the other worker's copy can get through.
"""

import datetime as dt
import time

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mailbox.models import OutgoingMessage


class LeaseLost(Exception):
    """The message is no longer ours (another worker took it over): stop before the end."""


def lease_until(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS)


def renew(message_pk: int, owner: str, held: Q) -> bool:
    """Extends our lease on the row while `held` (its state) is still true; False if not ours."""
    now = timezone.now()
    renewed = OutgoingMessage.objects.filter(held, pk=message_pk, claimed_by=owner).update(
        claimed_until=lease_until(now), updated_at=now
    )
    return renewed == 1


class LeaseKeeper:
    """Renews one row's lease at most every third of a lease, from a write loop."""

    def __init__(self, message_pk: int, owner: str, held: Q) -> None:
        self.message_pk = message_pk
        self.owner = owner
        self.held = held
        self.every = settings.MAIL_SEND_LEASE_SECONDS / 3
        self.renewed_at = time.monotonic()

    def __call__(self, sent: int = 0) -> None:
        if time.monotonic() - self.renewed_at >= self.every:
            self.renew_now()

    def renew_now(self) -> None:
        if not renew(self.message_pk, self.owner, self.held):
            raise LeaseLost(self.message_pk)
        self.renewed_at = time.monotonic()
