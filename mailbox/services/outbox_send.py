"""Sending one account's claimed messages over one SMTP session, each through its own
durable steps (claimed → sending → dot_sent → sent, or its failure recorded by
mailbox/services/outbox_settle.py); mailbox/services/outbox.py's send_batch calls it.

The batch moves claimed → sending in one UPDATE before its first MAIL FROM (a message that
waits its turn is no more sent than a claimed one: both are taken over when the lease runs
out), so the steps of each message are two conditional UPDATEs, dot_sent and its outcome.
Each message's lease is renewed when its turn comes if the batch took a while, and from the
write loop while its body goes out (outbox_lease.LeaseKeeper).
Like the rest of the outbox, nothing here may run inside `transaction.atomic()`.
"""

import logging

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
    TemporaryFailure,
    TlsUnavailable,
)
from mailbox.services import sent_copy
from mailbox.services.outbox_lease import LeaseKeeper, LeaseLost, lease_until
from mailbox.services.outbox_settle import SendOutcome, retry_or_fail, settle, words
from mailbox.services.outbox_smtp import SmtpLine

logger = logging.getLogger(__name__)

S = OutgoingState
# Connection failures a retry cannot cure: the account's settings must change first.
_SETTINGS_FAILURES = (AuthFailed, CertificateUntrusted, TlsUnavailable, ForbiddenAddress)
# What a send reads (not the Sent copy, as big again) and what settling it needs.
SENDING_FIELDS = ("raw", "envelope_from", "envelope_to", "send_at", "attempts")


def send_for_account(account_id: int, message_pks: list[int], owner: str) -> dict[int, SendOutcome]:
    """One account's messages; anything unforeseen stops only this account (the leases of its
    messages not yet tried run out, and the next sweep claims them again)."""
    started = _start(message_pks, owner)
    outcomes = {pk: SendOutcome(pk, "", "not ours") for pk in message_pks if pk not in started}
    try:
        with SmtpLine(MailAccount.objects.get(pk=account_id)) as line:
            for pk in message_pks:
                if pk in started:
                    outcomes[pk] = _send_on(line, pk, owner, started[pk])
    except Exception:
        logger.exception("outbox: sending for account %s stopped", account_id)
    for pk in message_pks:
        outcomes.setdefault(pk, SendOutcome(pk, "", "left for the next sweep"))
    return outcomes


def _start(message_pks: list[int], owner: str) -> dict[int, LeaseKeeper]:
    """claimed → sending for the whole batch in one UPDATE (each row still only if ours); the
    messages we now hold, each with the keeper of its lease."""
    now = timezone.now()
    lease = lease_until(now)
    ours = OutgoingMessage.objects.filter(pk__in=message_pks, claimed_by=owner)
    ours.filter(state=S.CLAIMED).update(
        state=S.SENDING, attempts=F("attempts") + 1, claimed_until=lease, updated_at=now
    )
    held = ours.filter(state=S.SENDING, claimed_until=lease).values_list("pk", flat=True)
    return {pk: LeaseKeeper(pk, owner, Q(state=S.SENDING)) for pk in held}


def _send_on(line: SmtpLine, message_pk: int, owner: str, keeper: LeaseKeeper) -> SendOutcome:
    """One message over the batch's session; every failure becomes its outcome."""
    ours = OutgoingMessage.objects.filter(pk=message_pk, claimed_by=owner)
    try:
        keeper()  # renewed if the batch's earlier messages took a while
    except LeaseLost:
        return SendOutcome(message_pk, "", "not ours")
    message = OutgoingMessage.objects.only(*SENDING_FIELDS).get(pk=message_pk)

    def mark_dot_sent() -> None:
        now = timezone.now()
        dot_sent = ours.filter(state=S.SENDING).update(
            state=S.DOT_SENT, claimed_until=lease_until(now), updated_at=now
        )
        if not dot_sent:
            raise LeaseLost(message_pk)

    try:
        result = smtp_send.submit(
            line.client(),
            message.envelope_from,
            message.envelope_to,
            bytes(message.raw),
            before_final_dot=mark_dot_sent,
            on_progress=keeper,
        )
    except LeaseLost:
        return SendOutcome(message_pk, "", "taken over by another worker before the end of data")
    except OutcomeUnknown as exc:
        return settle(message, owner, S.UNKNOWN, words(exc))
    except PermanentFailure as exc:
        return settle(message, owner, S.FAILED, words(exc))
    except TemporaryFailure as exc:
        return retry_or_fail(message, owner, words(exc))
    except _SETTINGS_FAILURES as exc:
        return settle(message, owner, S.FAILED, str(exc))
    except MailProtocolError as exc:  # could not connect, timed out, ...: nothing went
        return retry_or_fail(message, owner, str(exc))
    refused = "; ".join(f"{r.address}: {r.reply}" for r in result.refused)
    return settle(message, owner, S.SENT, refused, sent_at=timezone.now())


def store_sent_copies(message_pks: list[int], owner: str) -> None:
    """The messages went: a failure here is the sweep's to finish, never the send's."""
    if not message_pks:
        return
    try:
        sent_copy.store_sent_copies(message_pks, owner)
    except Exception:
        logger.exception("Sent copies of outbox messages %s left to the sweep", message_pks)
