"""Sending one account's claimed messages over one SMTP session, each through its own
durable steps (claimed → sending → dot_sent → sent, or its failure recorded by
mailbox/services/outbox_settle.py); mailbox/services/outbox.py's send_batch calls it.

The batch moves claimed → sending in one UPDATE before its first MAIL FROM (a message that
waits its turn is no more sent than a claimed one: both are taken over when the lease runs
out), and reads the rows once (the raw messages in chunks of at most RAW_CHUNK_BYTES). A
message's 250 is recorded while the server considers the next message's envelope (`Recorder`,
the submit's `while_envelope`), off the path of either; on its own after the last one. A
worker killed in that short wait leaves the message dot_sent, later unknown (never sent
twice): the same outcome as a reply lost after the dot.
Each message's lease is renewed when its turn comes if the batch took a while, and from the
write loop while its body goes out (outbox_lease.LeaseKeeper).
Like the rest of the outbox, no network I/O here runs inside `transaction.atomic()`.
"""

import datetime as dt
import logging
from collections.abc import Iterator

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils import timezone

from accounts.models import MailAccount
from accounts.services.oauth_tokens import SignInRequired, TokenUnavailable
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
# What a send reads besides the raw message and what settling it needs (not the Sent copy).
SENDING_FIELDS = ("envelope_from", "envelope_to", "send_at", "attempts")
RAW_CHUNK_BYTES = 4 * 1024 * 1024  # raw messages read per query, at most (one bigger: alone)


class Recorder:
    """Holds a message's 250 until `flush` records it: while the server reads the next
    envelope, or at the latest with the next message's dot_sent."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.outcomes: dict[int, SendOutcome] = {}
        self._held: tuple[OutgoingMessage, str, dt.datetime] | None = None

    def hold(self, message: OutgoingMessage, refused: str, sent_at: dt.datetime) -> None:
        self.flush()
        self._held = (message, refused, sent_at)

    def flush(self) -> None:
        if self._held is not None:
            message, refused, sent_at = self._held
            self._held = None
            self.outcomes[message.pk] = settle(
                message, self.owner, S.SENT, refused, sent_at=sent_at
            )

    def mark_dot_sent(self, message_pk: int) -> None:
        """This message's dot_sent (with a 250 still held, in the same commit); LeaseLost if
        the message is no longer ours (a held 250 is recorded all the same)."""
        now = timezone.now()
        with transaction.atomic():
            self.flush()
            dot_sent = OutgoingMessage.objects.filter(
                pk=message_pk, claimed_by=self.owner, state=S.SENDING
            ).update(state=S.DOT_SENT, claimed_until=lease_until(now), updated_at=now)
        if not dot_sent:
            raise LeaseLost(message_pk)


def send_for_account(account_id: int, message_pks: list[int], owner: str) -> dict[int, SendOutcome]:
    """One account's messages; anything unforeseen stops only this account (the leases of its
    messages not yet tried run out, and the next sweep claims them again)."""
    rows = _start(message_pks, owner)
    # Made now: a message whose turn comes late in a long batch renews its lease first.
    keepers = {pk: LeaseKeeper(pk, owner, Q(state=S.SENDING)) for pk in rows}
    outcomes = {pk: SendOutcome(pk, "", "not ours") for pk in message_pks if pk not in rows}
    recorder = Recorder(owner)
    try:
        with SmtpLine(MailAccount.objects.get(pk=account_id)) as line:
            ordered = [rows[pk] for pk in message_pks if pk in rows]
            for message in _with_raw(ordered):
                outcome = _send_on(line, message, owner, keepers[message.pk], recorder)
                if outcome is not None:
                    outcomes[message.pk] = outcome
            recorder.flush()  # the last 250, before QUIT
    except Exception:
        logger.exception("outbox: sending for account %s stopped", account_id)
    finally:
        recorder.flush()
        outcomes.update(recorder.outcomes)
    for pk in message_pks:
        outcomes.setdefault(pk, SendOutcome(pk, "", "left for the next sweep"))
    return outcomes


def _start(message_pks: list[int], owner: str) -> dict[int, OutgoingMessage]:
    """claimed → sending for the whole batch in one UPDATE (each row still only if ours); the
    messages we now hold, read once, without their raw bytes (`size` says how many)."""
    now = timezone.now()
    lease = lease_until(now)
    ours = OutgoingMessage.objects.filter(pk__in=message_pks, claimed_by=owner)
    ours.filter(state=S.CLAIMED).update(
        state=S.SENDING, attempts=F("attempts") + 1, claimed_until=lease, updated_at=now
    )
    held = ours.filter(state=S.SENDING, claimed_until=lease).only(*SENDING_FIELDS)
    return {row.pk: row for row in held.annotate(size=Length("raw"))}


def _with_raw(messages: list[OutgoingMessage]) -> Iterator[OutgoingMessage]:
    """The messages in order, each with its raw bytes, read a chunk at a time."""
    for chunk in _chunks(messages):
        raws = dict(
            OutgoingMessage.objects.filter(pk__in=[m.pk for m in chunk]).values_list("pk", "raw")
        )
        for message in chunk:
            message.raw = bytes(raws[message.pk])
            yield message
            message.raw = b""  # sent: its bytes need not stay in memory


def _chunks(messages: list[OutgoingMessage]) -> Iterator[list[OutgoingMessage]]:
    chunk: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        if chunk and size + message.size > RAW_CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(message)
        size += message.size
    if chunk:
        yield chunk


def _send_on(
    line: SmtpLine, message: OutgoingMessage, owner: str, keeper: LeaseKeeper, recorder: Recorder
) -> SendOutcome | None:
    """One message over the batch's session: its failure as an outcome, or None when its 250
    is held by `recorder`."""
    try:
        keeper()  # renewed if the batch's earlier messages took a while
    except LeaseLost:
        return SendOutcome(message.pk, "", "not ours")
    try:
        result = smtp_send.submit(
            line.client(),
            message.envelope_from,
            message.envelope_to,
            message.raw,
            before_final_dot=lambda: recorder.mark_dot_sent(message.pk),
            on_progress=keeper,
            while_envelope=recorder.flush,
        )
    except Exception as exc:
        recorder.flush()  # the previous 250 is not held behind a failure
        return _failed(message, owner, exc)
    refused = "; ".join(f"{r.address}: {r.reply}" for r in result.refused)
    recorder.hold(message, refused, sent_at=timezone.now())
    return None


def _failed(message: OutgoingMessage, owner: str, exc: Exception) -> SendOutcome:
    """Records why a message did not go (anything unforeseen propagates)."""
    if isinstance(exc, LeaseLost):
        return SendOutcome(message.pk, "", "taken over by another worker before the end of data")
    if isinstance(exc, OutcomeUnknown):
        return settle(message, owner, S.UNKNOWN, words(exc))
    if isinstance(exc, PermanentFailure):
        return settle(message, owner, S.FAILED, words(exc))
    if isinstance(exc, TemporaryFailure):
        return retry_or_fail(message, owner, words(exc))
    if isinstance(exc, _SETTINGS_FAILURES):
        return settle(message, owner, S.FAILED, str(exc))
    if isinstance(exc, MailProtocolError):  # could not connect, timed out, ...: nothing went
        return retry_or_fail(message, owner, str(exc))
    if isinstance(exc, SignInRequired | TokenUnavailable):  # OAuth: waits for a new sign-in
        return retry_or_fail(message, owner, str(exc))
    raise exc


def store_sent_copies(message_pks: list[int], owner: str) -> None:
    """The messages went: a failure here is the sweep's to finish, never the send's."""
    if not message_pks:
        return
    try:
        sent_copy.store_sent_copies(message_pks, owner)
    except Exception:
        logger.exception("Sent copies of outbox messages %s left to the sweep", message_pks)
