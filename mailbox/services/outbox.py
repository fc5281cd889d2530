"""The outbox: queue a built message, claim it, send it once, settle what a dead worker left,
and the person's own moves (take a message back, "It arrived", "Send again"). The states and
their arrows are in mailbox/models/outbox.py.

Every change of state is one conditional UPDATE ("0 rows → someone else has it", as in
mailbox/services/lease.py), committed on its own: nothing here holds a transaction across
network I/O, so these functions must not be called inside `transaction.atomic()`. The one
write during the SMTP dialogue, `dot_sent`, happens in submit()'s `before_final_dot` hook; if
it finds the message no longer ours (our lease expired and another worker took it), the
end of data is not sent, so only one worker can ever get past that point. While a long body
goes out, the lease is renewed (mailbox/services/outbox_lease.py), so a live send is never
taken over.

A batch (`send_batch`, what the sweep calls) sends the due messages of one account over one
SMTP session (mailbox/services/outbox_send.py, outbox_smtp.py), each with its own state
steps, then stores their Sent copies together (mailbox/services/sent_copy.py).
"""

import datetime as dt
import logging
import re
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.protocols import mime
from mailbox.protocols.mime_build import BuiltMessage
from mailbox.services import outbox_send
from mailbox.services.outbox_lease import lease_until
from mailbox.services.outbox_settle import SendOutcome

logger = logging.getLogger(__name__)

S = OutgoingState
UNKNOWN_AFTER_DOT = (
    "The worker sending this message stopped after the end of the message went out to the "
    "server: the server may have taken it. It is not sent again on its own."
)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")  # the end of the header block


def do_queue_message(
    account: MailAccount, built: BuiltMessage, send_at: dt.datetime | None = None
) -> OutgoingMessage:
    """Stores the message in the outbox; it goes at `send_at` (default: after the undo window).
    The same Message-ID queued twice for an account is the same message: the first row, unless
    that one was cancelled, which the new content and send_at bring back to queued."""
    if send_at is None:
        send_at = timezone.now() + dt.timedelta(seconds=settings.MAIL_UNDO_SEND_SECONDS)
    content = {
        "subject": _subject(built.sent_copy),
        "raw": built.raw,
        "sent_copy": built.sent_copy,
        "envelope_from": built.envelope_from,
        "envelope_to": list(built.envelope_to),
        "send_at": send_at,
        "next_attempt_at": send_at,
    }
    try:
        with transaction.atomic():
            return OutgoingMessage.objects.create(
                account=account, message_id=built.message_id, **content
            )
    except IntegrityError:
        OutgoingMessage.objects.filter(
            account=account, message_id=built.message_id, state=S.CANCELLED
        ).update(state=S.QUEUED, attempts=0, last_error="", updated_at=timezone.now(), **content)
        return OutgoingMessage.objects.get(account=account, message_id=built.message_id)


def _subject(raw: bytes) -> str:
    head = _BLANK_LINE.split(raw, maxsplit=1)[0] + b"\r\n\r\n"
    return mime.parse_headers(head).subject[:255]


def do_cancel(message: OutgoingMessage, now: dt.datetime | None = None) -> bool:
    """Takes a message back to write again: a queued one not yet due (undo, a scheduled one
    withdrawn, one waiting for its next try), so never once a worker may have claimed it; or
    a failed one ("Edit and send again"). The row stays, `cancelled`, with its raw and
    sent_copy for compose to reopen; False when too late."""
    now = now or timezone.now()
    waiting = Q(state=S.QUEUED, next_attempt_at__gt=now)
    taken_back = OutgoingMessage.objects.filter(waiting | Q(state=S.FAILED), pk=message.pk).update(
        state=S.CANCELLED, claimed_by="", claimed_until=None, updated_at=now
    )
    return taken_back == 1


def do_mark_arrived(message: OutgoingMessage) -> bool:
    """The person says an `unknown` message did arrive: sent (the Sent copy follows)."""
    now = timezone.now()
    settled = OutgoingMessage.objects.filter(pk=message.pk, state=S.UNKNOWN).update(
        state=S.SENT, last_error="", sent_at=now, updated_at=now
    )
    return settled == 1


def do_send_again(message: OutgoingMessage) -> bool:
    """The person asks for an `unknown` message to go again: queued now, a new retry period."""
    now = timezone.now()
    queued = OutgoingMessage.objects.filter(pk=message.pk, state=S.UNKNOWN).update(
        state=S.QUEUED,
        attempts=0,
        last_error="",
        send_at=now,
        next_attempt_at=now,
        updated_at=now,
    )
    return queued == 1


def _claimable(now: dt.datetime) -> Q:
    due = Q(state=S.QUEUED, next_attempt_at__lte=now)
    abandoned = Q(state__in=(S.CLAIMED, S.SENDING), claimed_until__lt=now)
    return due | abandoned


def claim(message_pk: int, owner: str, now: dt.datetime | None = None) -> bool:
    """Takes one message if it is due (or its last worker's lease expired before the end of
    data); False when it is not, or somebody else has it."""
    now = now or timezone.now()
    taken = OutgoingMessage.objects.filter(_claimable(now), pk=message_pk).update(
        state=S.CLAIMED, claimed_by=owner, claimed_until=lease_until(now), updated_at=now
    )
    return taken == 1


def claim_due(owner: str, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    """Claims up to `limit` (MAIL_SEND_BATCH) due messages, oldest due first; returns the ones
    we got. One UPDATE for them all (still conditional on each row being claimable), then the
    rows that carry this very claim (our name and its lease) are ours."""
    now = now or timezone.now()
    candidates = list(
        OutgoingMessage.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[: limit or settings.MAIL_SEND_BATCH]
    )
    if not candidates:
        return []
    lease = lease_until(now)
    OutgoingMessage.objects.filter(_claimable(now), pk__in=candidates).update(
        state=S.CLAIMED, claimed_by=owner, claimed_until=lease, updated_at=now
    )
    ours = set(
        OutgoingMessage.objects.filter(
            pk__in=candidates, state=S.CLAIMED, claimed_by=owner, claimed_until=lease
        ).values_list("pk", flat=True)
    )
    return [pk for pk in candidates if pk in ours]


def expire_leases(now: dt.datetime | None = None) -> int:
    """A worker that stopped after writing dot_sent may have delivered the message: unknown.
    (Expired leases before the end of data need nothing here: claim() takes those again.)"""
    now = now or timezone.now()
    return OutgoingMessage.objects.filter(state=S.DOT_SENT, claimed_until__lt=now).update(
        state=S.UNKNOWN,
        last_error=UNKNOWN_AFTER_DOT,
        claimed_by="",
        claimed_until=None,
        updated_at=now,
    )


def send_message(message_pk: int, owner: str) -> SendOutcome:
    """Claims one message by id and sends it: what a (possibly redelivered) task calls."""
    if not claim(message_pk, owner):
        return SendOutcome(message_pk, "", "not due, or not ours")
    return send_claimed(message_pk, owner)


def send_claimed(message_pk: int, owner: str) -> SendOutcome:
    """Sends a message `owner` has claimed and records the outcome."""
    return send_batch([message_pk], owner)[0]


def send_batch(message_pks: Sequence[int], owner: str) -> list[SendOutcome]:
    """Sends messages `owner` has claimed, one SMTP session per account, in the given order;
    then stores the Sent copies of those that went. One outcome per message, in order."""
    accounts = dict(
        OutgoingMessage.objects.filter(pk__in=message_pks).values_list("pk", "account_id")
    )
    outcomes: dict[int, SendOutcome] = {
        pk: SendOutcome(pk, "", "not ours") for pk in message_pks if pk not in accounts
    }
    for account_id in dict.fromkeys(accounts[pk] for pk in message_pks if pk in accounts):
        mine = [pk for pk in message_pks if accounts.get(pk) == account_id]
        outcomes.update(outbox_send.send_for_account(account_id, mine, owner))
    sent = [o.message_pk for o in outcomes.values() if o.state == S.SENT]
    outbox_send.store_sent_copies(sent, owner)
    return [outcomes[pk] for pk in message_pks]
