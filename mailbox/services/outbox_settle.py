"""Recording how one send attempt ended: sent, failed, unknown, or queued again for a retry
with a growing delay (mailbox/services/outbox.py sends; the states are in
mailbox/models/outbox.py). Each record is one conditional UPDATE on a row still ours."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.protocols.errors import SubmitFailure

logger = logging.getLogger(__name__)

S = OutgoingState


@dataclass(frozen=True)
class SendOutcome:
    message_pk: int
    state: str  # an OutgoingState, or "" when the message was not ours to send
    detail: str = ""


def words(exc: SubmitFailure) -> str:
    return exc.server_reply or str(exc)


def retry_or_fail(message: OutgoingMessage, owner: str, error: str) -> SendOutcome:
    """Queued again after a delay that doubles with each attempt; failed once the retry
    period (MAIL_SEND_RETRY_FOR_HOURS after send_at) would be over."""
    now = timezone.now()
    give_up_at = message.send_at + dt.timedelta(hours=settings.MAIL_SEND_RETRY_FOR_HOURS)
    delay = settings.MAIL_SEND_RETRY_BASE_SECONDS * 2 ** max(message.attempts - 1, 0)
    next_attempt_at = now + dt.timedelta(seconds=delay)
    if next_attempt_at > give_up_at:
        return settle(message, owner, S.FAILED, error)
    return settle(message, owner, S.QUEUED, error, next_attempt_at=next_attempt_at)


def settle(
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
