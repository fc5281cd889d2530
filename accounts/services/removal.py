"""Removing a mail account: what happens to its outbox, said before the person confirms.

Waiting messages (queued, scheduled, in their undo window) are cancelled with the account:
the page lists them first. A message a worker has already claimed cannot be taken back
(the server may be reading it right now), so removal waits until it has gone: the person is
asked to try again in a moment rather than being told something that may not be true.
"""

from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default

from django.utils import timezone

from accounts.models import MailAccount
from accounts.services.mail_accounts import do_delete_account
from mailbox.models import OutgoingMessage, OutgoingState

S = OutgoingState
WAITING = (S.QUEUED,)
ON_ITS_WAY = (S.CLAIMED, S.SENDING, S.DOT_SENT)


@dataclass(frozen=True)
class Unsent:
    subject: str
    send_at: str  # ISO time, for the page's date filter


@dataclass(frozen=True)
class OutboxOnRemoval:
    cancelled: tuple[Unsent, ...]  # waiting: cancelled with the account, never sent
    on_its_way: int  # being sent right now: removal waits for them


@dataclass(frozen=True)
class Removal:
    removed: bool
    cancelled: int  # waiting messages cancelled
    on_its_way: int  # when not removed: messages still being sent


def outbox_on_removal(account: MailAccount) -> OutboxOnRemoval:
    """What removing the account now would do to its unsent mail."""
    outgoing = OutgoingMessage.objects.filter(account=account)
    waiting = outgoing.filter(state__in=WAITING).order_by("send_at", "pk")
    return OutboxOnRemoval(
        cancelled=tuple(
            Unsent(_subject(bytes(raw)), send_at.isoformat())
            for raw, send_at in waiting.values_list("raw", "send_at")
        ),
        on_its_way=outgoing.filter(state__in=ON_ITS_WAY).count(),
    )


def do_remove_account(account: MailAccount) -> Removal:
    """Cancels the account's waiting mail and removes it, unless a message is being sent
    right now: then the waiting ones stay cancelled and the account stays, for a retry."""
    outgoing = OutgoingMessage.objects.filter(account_id=account.pk)
    # One conditional UPDATE: a message a worker claims meanwhile is "on its way" below.
    cancelled = outgoing.filter(state__in=WAITING).update(
        state=S.CANCELLED, updated_at=timezone.now()
    )
    on_its_way = outgoing.filter(state__in=ON_ITS_WAY).count()
    if on_its_way:
        return Removal(removed=False, cancelled=cancelled, on_its_way=on_its_way)
    do_delete_account(account)
    return Removal(removed=True, cancelled=cancelled, on_its_way=0)


def _subject(raw: bytes) -> str:
    headers = BytesHeaderParser(policy=default).parsebytes(raw)
    return str(headers.get("subject", "")) or "(no subject)"
