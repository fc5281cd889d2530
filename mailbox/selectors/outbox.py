"""The outbox as its owner sees it: each outgoing message only through the person's account.

The page groups the person's messages by what they can do about them: waiting to go (and
when), not sent (the server's words), undecided (unknown: only the person can say), and sent
recently. The message bodies are never loaded: the row's subject and envelope suffice.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from mailbox.models import OutgoingMessage, OutgoingState, SentCopyState

S = OutgoingState
WAITING = (S.QUEUED, S.CLAIMED, S.SENDING, S.DOT_SENT)
NEEDS_LOOKING_AT = (*WAITING, S.FAILED, S.UNKNOWN)  # what the sidebar counts
RECENTLY_SENT = dt.timedelta(days=7)
SENT_SHOWN = 20
FIELDS = (
    "account__email",
    "subject",
    "envelope_to",
    "state",
    "send_at",
    "next_attempt_at",
    "attempts",
    "last_error",
    "sent_at",
    "sent_copy_state",
    "sent_copy_error",
)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    account_email: str
    subject: str
    recipients: str
    state: str
    send_at: dt.datetime
    next_attempt_at: dt.datetime
    attempts: int
    last_error: str
    sent_at: dt.datetime | None
    sent_copy_failed: str  # why the Sent folder has no copy, when it was given up
    is_due: bool  # a worker takes it at its next sweep (or has it)

    @property
    def is_retrying(self) -> bool:
        return self.state == S.QUEUED and self.attempts > 0

    @property
    def can_withdraw(self) -> bool:
        """Queued and not due: the person may still take it back (do_cancel agrees)."""
        return self.state == S.QUEUED and not self.is_due


@dataclass
class OutboxPage:
    waiting: list[OutboxItem] = field(default_factory=list)
    failed: list[OutboxItem] = field(default_factory=list)
    unknown: list[OutboxItem] = field(default_factory=list)
    sent: list[OutboxItem] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.waiting or self.failed or self.unknown or self.sent)


def outgoing_for_user(user: User, outgoing_id: int) -> OutgoingMessage:
    """The person's outgoing message; another person's id answers 404 like a missing one."""
    return get_object_or_404(OutgoingMessage, pk=outgoing_id, account__user=user)


def outbox_count(user: User) -> int:
    """Messages still to go, or that need the person: the sidebar's number."""
    theirs = OutgoingMessage.objects.filter(account__user=user)
    return theirs.filter(state__in=NEEDS_LOOKING_AT).count()


def outbox_page(user: User, now: dt.datetime | None = None) -> OutboxPage:
    now = now or timezone.now()
    found = OutboxPage()
    pending = _theirs(user).filter(state__in=NEEDS_LOOKING_AT).order_by("next_attempt_at", "pk")
    for row in pending:
        item = _item(row, now)
        if item.state == S.FAILED:
            found.failed.append(item)
        elif item.state == S.UNKNOWN:
            found.unknown.append(item)
        else:
            found.waiting.append(item)
    sent = _theirs(user).filter(state=S.SENT, sent_at__gte=now - RECENTLY_SENT)
    found.sent = [_item(row, now) for row in sent.order_by("-sent_at", "-pk")[:SENT_SHOWN]]
    return found


def _theirs(user: User) -> QuerySet[OutgoingMessage]:
    return (
        OutgoingMessage.objects.filter(account__user=user).select_related("account").only(*FIELDS)
    )


def _item(row: OutgoingMessage, now: dt.datetime) -> OutboxItem:
    copy_failed = row.sent_copy_state == SentCopyState.FAILED
    return OutboxItem(
        id=row.pk,
        account_email=row.account.email,
        subject=row.subject,
        recipients=", ".join(row.envelope_to),
        state=row.state,
        send_at=row.send_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        last_error=row.last_error,
        sent_at=row.sent_at,
        sent_copy_failed=row.sent_copy_error if copy_failed else "",
        is_due=row.state != S.QUEUED or row.next_attempt_at <= now,
    )
