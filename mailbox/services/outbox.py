"""The outbox: queue a built message, claim it, send it once, and settle what a dead worker
left. The states and their arrows are in mailbox/models/outbox.py.

Every change of state is one conditional UPDATE ("0 rows → someone else has it", as in
mailbox/services/lease.py), committed on its own: nothing here holds a transaction across
network I/O, so these functions must not be called inside `transaction.atomic()`. The one
write during the SMTP dialogue, `dot_sent`, happens in submit()'s `before_final_dot` hook; if
it finds the message no longer ours (our lease expired and another worker took it), the
end of data is not sent, so only one worker can ever get past that point.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.protocols import smtp_send
from mailbox.protocols.errors import (
    AuthFailed,
    CertificateUntrusted,
    ForbiddenAddress,
    MailProtocolError,
    OutcomeUnknown,
    PermanentFailure,
    SubmitFailure,
    TemporaryFailure,
    TlsUnavailable,
)
from mailbox.protocols.mime_build import BuiltMessage
from mailbox.services import sent_copy
from mailbox.services.connections import smtp_session

logger = logging.getLogger(__name__)

S = OutgoingState
# Connection failures a retry cannot cure: the account's settings must change first.
_SETTINGS_FAILURES = (AuthFailed, CertificateUntrusted, TlsUnavailable, ForbiddenAddress)
UNKNOWN_AFTER_DOT = (
    "The worker sending this message stopped after the end of the message went out to the "
    "server: the server may have taken it. It is not sent again on its own."
)


class LeaseLost(Exception):
    """The message is no longer ours (another worker took it over): stop before the dot."""


@dataclass(frozen=True)
class SendOutcome:
    message_pk: int
    state: str  # an OutgoingState, or "" when the message was not ours to send
    detail: str = ""


def do_queue_message(
    account: MailAccount, built: BuiltMessage, send_at: dt.datetime | None = None
) -> OutgoingMessage:
    """Stores the message in the outbox; it goes at `send_at` (default: after the undo window).
    The same Message-ID queued twice for an account is the same message: the first row, unless
    that one was cancelled, which the new content and send_at bring back to queued."""
    if send_at is None:
        send_at = timezone.now() + dt.timedelta(seconds=settings.MAIL_UNDO_SEND_SECONDS)
    content = {
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
        ).update(state=S.QUEUED, last_error="", updated_at=timezone.now(), **content)
        return OutgoingMessage.objects.get(account=account, message_id=built.message_id)


def do_cancel(message: OutgoingMessage, now: dt.datetime | None = None) -> bool:
    """Takes a message back (undo, or a scheduled one withdrawn): only while it is queued and
    its send_at is still ahead, so never once a worker may have claimed it. The row stays,
    `cancelled`, with its raw and sent_copy for compose to reopen; False when too late."""
    now = now or timezone.now()
    taken_back = OutgoingMessage.objects.filter(
        pk=message.pk, state=S.QUEUED, send_at__gt=now, next_attempt_at__gt=now
    ).update(state=S.CANCELLED, updated_at=now)
    return taken_back == 1


def _claimable(now: dt.datetime) -> Q:
    due = Q(state=S.QUEUED, next_attempt_at__lte=now)
    abandoned = Q(state__in=(S.CLAIMED, S.SENDING), claimed_until__lt=now)
    return due | abandoned


def claim(message_pk: int, owner: str, now: dt.datetime | None = None) -> bool:
    """Takes one message if it is due (or its last worker's lease expired before the end of
    data); False when it is not, or somebody else has it."""
    now = now or timezone.now()
    lease = now + dt.timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS)
    taken = OutgoingMessage.objects.filter(_claimable(now), pk=message_pk).update(
        state=S.CLAIMED, claimed_by=owner, claimed_until=lease, updated_at=now
    )
    return taken == 1


def claim_due(owner: str, now: dt.datetime | None = None, limit: int = 50) -> list[int]:
    """Claims up to `limit` due messages, oldest due first; returns the ones we got."""
    now = now or timezone.now()
    candidates = (
        OutgoingMessage.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return [pk for pk in list(candidates) if claim(pk, owner, now)]


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
    """Sends a message `owner` has claimed, over one SMTP session, and records the outcome."""
    now = timezone.now()
    lease = now + dt.timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS)
    ours = OutgoingMessage.objects.filter(pk=message_pk, claimed_by=owner)
    started = ours.filter(state=S.CLAIMED).update(
        state=S.SENDING, attempts=F("attempts") + 1, claimed_until=lease, updated_at=now
    )
    if not started:
        return SendOutcome(message_pk, "", "not ours")
    message = OutgoingMessage.objects.select_related("account").get(pk=message_pk)

    def mark_dot_sent() -> None:
        if not ours.filter(state=S.SENDING).update(state=S.DOT_SENT, updated_at=timezone.now()):
            raise LeaseLost(message_pk)

    try:
        with smtp_session(message.account) as client:
            result = smtp_send.submit(
                client,
                message.envelope_from,
                message.envelope_to,
                bytes(message.raw),
                before_final_dot=mark_dot_sent,
            )
    except LeaseLost:
        return SendOutcome(message_pk, "", "taken over by another worker before the end of data")
    except OutcomeUnknown as exc:
        return _settle(message, owner, S.UNKNOWN, _words(exc))
    except PermanentFailure as exc:
        return _settle(message, owner, S.FAILED, _words(exc))
    except TemporaryFailure as exc:
        return _retry_or_fail(message, owner, _words(exc))
    except _SETTINGS_FAILURES as exc:
        return _settle(message, owner, S.FAILED, str(exc))
    except MailProtocolError as exc:  # could not connect, timed out, ...: nothing went
        return _retry_or_fail(message, owner, str(exc))
    refused = "; ".join(f"{r.address}: {r.reply}" for r in result.refused)
    outcome = _settle(message, owner, S.SENT, refused, sent_at=timezone.now())
    if outcome.state == S.SENT:
        _store_sent_copy(message_pk, owner)
    return outcome


def _store_sent_copy(message_pk: int, owner: str) -> None:
    """The message went: a failure here is the sweep's to finish, never the send's."""
    try:
        sent_copy.store_sent_copy(message_pk, owner)
    except Exception:
        logger.exception("Sent copy of outbox message %s left to the sweep", message_pk)


def _words(exc: SubmitFailure) -> str:
    return exc.server_reply or str(exc)


def _retry_or_fail(message: OutgoingMessage, owner: str, error: str) -> SendOutcome:
    now = timezone.now()
    give_up_at = message.send_at + dt.timedelta(hours=settings.MAIL_SEND_RETRY_FOR_HOURS)
    delay = settings.MAIL_SEND_RETRY_BASE_SECONDS * 2 ** max(message.attempts - 1, 0)
    next_attempt_at = now + dt.timedelta(seconds=delay)
    if next_attempt_at > give_up_at:
        return _settle(message, owner, S.FAILED, error)
    return _settle(message, owner, S.QUEUED, error, next_attempt_at=next_attempt_at)


def _settle(
    message: OutgoingMessage, owner: str, state: str, error: str, **fields: object
) -> SendOutcome:
    """Records the outcome, if the message is still ours (a dot_sent we were too slow for may
    have become unknown meanwhile: the server's answer still settles it)."""
    updated = OutgoingMessage.objects.filter(
        pk=message.pk,
        claimed_by=owner,
        state__in=(S.SENDING, S.DOT_SENT),
    ).update(
        state=state,
        last_error=error,
        claimed_by="",
        claimed_until=None,
        updated_at=timezone.now(),
        **fields,
    )
    if not updated and state == S.SENT:  # expire_leases made it unknown; it did go
        updated = OutgoingMessage.objects.filter(pk=message.pk, state=S.UNKNOWN).update(
            state=state, last_error=error, updated_at=timezone.now(), **fields
        )
    if not updated:
        logger.warning("outbox message %s changed hands before %s was recorded", message.pk, state)
        return SendOutcome(message.pk, "", f"{state} not recorded: no longer ours")
    return SendOutcome(message.pk, state, error)
