"""The Sent copy: each sent message stored once in the account's Sent folder, with \\Seen.

The states are in mailbox/models/outbox.py (sent_copy_state). Every move is a conditional
UPDATE committed on its own and the APPEND runs outside any transaction, so these functions
must not be called inside `transaction.atomic()`. A copy is leased like a send (claimed_by,
claimed_until); a worker that dies after the APPEND but before recording it leaves the copy
`appending` until the lease runs out, and the next claim, seeing an earlier attempt, looks
for the Message-ID in the Sent folder before appending: exactly one copy either way.

The copies of a batch go over one IMAP session; before each APPEND, and while a long one is
written, the lease is renewed (mailbox/services/outbox_lease.py): a copy whose lease was
taken over stops mid-APPEND, so the server stores nothing from it.

Gmail stores what its SMTP server sends in "Sent Mail" itself, so a copy from us would be a
second one: skipped when the account's IMAP host is Gmail's, or the server says X-GM-EXT-1.

A POP3 account's Sent folder is local: the copy becomes a message there (threaded, searchable,
read) in the same transaction that records it `appended`, so it is stored exactly once.
"""

import datetime as dt
import logging
from collections.abc import Sequence

from django.db.models import F, Q
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import (
    FolderRole,
    OutgoingMessage,
    OutgoingState,
    SentCopyState,
)
from mailbox.protocols.errors import MailProtocolError
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_actions import SEEN, append, find_message_id
from mailbox.protocols.imap_append import reporting_writes
from mailbox.protocols.types import Protocol
from mailbox.services.connections import imap_session
from mailbox.services.outbox_lease import LeaseKeeper, LeaseLost, lease_until
from mailbox.services.role_folders import folder_for_role
from mailbox.services.sent_copy_local import copy_bytes, store_locally

logger = logging.getLogger(__name__)

C = SentCopyState
GMAIL_HOSTS = ("imap.gmail.com", "imap.googlemail.com")
SENT_COPY_ATTEMPTS = 10  # network failures before the copy is given up (the mail did go)
NEW_SENT_FOLDER = "Sent"  # created when the server has no folder with the Sent role


def provider_keeps_sent(account: MailAccount) -> bool:
    """Known before connecting: the account's IMAP server is Gmail's."""
    return account.incoming_server.host.lower().rstrip(".") in GMAIL_HOSTS


def claim_copy(message_pk: int, owner: str, now: dt.datetime | None = None) -> bool:
    """Takes the Sent copy of one sent message: pending, or its last worker's lease over."""
    now = now or timezone.now()
    taken = OutgoingMessage.objects.filter(_copy_due(now), pk=message_pk).update(
        sent_copy_state=C.APPENDING,
        sent_copy_attempts=F("sent_copy_attempts") + 1,
        claimed_by=owner,
        claimed_until=lease_until(now),
        updated_at=now,
    )
    return taken == 1


def _copy_due(now: dt.datetime) -> Q:
    waiting = Q(sent_copy_state=C.PENDING)
    abandoned = Q(sent_copy_state=C.APPENDING, claimed_until__lt=now)
    return Q(state=OutgoingState.SENT) & (waiting | abandoned)


def store_due_copies(owner: str, now: dt.datetime | None = None, limit: int = 50) -> int:
    """The sweep: stores the Sent copies nobody stored (a worker died, or the append failed)."""
    now = now or timezone.now()
    candidates = (
        OutgoingMessage.objects.filter(_copy_due(now))
        .order_by("sent_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    claimed = [pk for pk in list(candidates) if claim_copy(pk, owner, now)]
    store_claimed_copies(claimed, owner)
    return len(claimed)


def store_sent_copy(message_pk: int, owner: str) -> str:
    """Claims and stores one message's Sent copy; its sent_copy_state after, "" if not ours."""
    return store_sent_copies([message_pk], owner)[0]


def store_sent_copies(message_pks: Sequence[int], owner: str) -> list[str]:
    """Claims and stores these messages' Sent copies; each one's state after ("" if not ours)."""
    claimed = [pk for pk in message_pks if claim_copy(pk, owner)]
    states = store_claimed_copies(claimed, owner)
    return [states.get(pk, "") for pk in message_pks]


def store_claimed_copy(message_pk: int, owner: str) -> str:
    """Stores the copy `owner` has claimed (or finds it there already) and records it."""
    return store_claimed_copies([message_pk], owner).get(message_pk, "")


def store_claimed_copies(message_pks: Sequence[int], owner: str) -> dict[int, str]:
    """Stores claimed copies, one session per account; each one's state after."""
    messages = (
        OutgoingMessage.objects.select_related("account")
        .filter(pk__in=message_pks)
        .defer("raw", "sent_copy")  # each copy is read when its turn comes (copy_bytes)
    )
    by_account: dict[int, list[OutgoingMessage]] = {}
    for message in messages.order_by("pk"):
        by_account.setdefault(message.account_id, []).append(message)
    states: dict[int, str] = {}
    for batch in by_account.values():
        states.update(_store_for_account(batch[0].account, batch, owner))
    return states


def _store_for_account(
    account: MailAccount, messages: list[OutgoingMessage], owner: str
) -> dict[int, str]:
    if account.incoming_protocol == Protocol.POP3:
        return {m.pk: store_locally(m, owner) for m in messages}
    if provider_keeps_sent(account):
        return {m.pk: _record(m.pk, owner, C.SKIPPED) for m in messages}
    states: dict[int, str] = {}
    try:
        with imap_session(account) as client:
            if client.has_capability("X-GM-EXT-1"):
                return {m.pk: _record(m.pk, owner, C.SKIPPED) for m in messages}
            folder = _sent_folder(account, client)
            for message in messages:
                states[message.pk] = _append_once(client, folder, message, owner)
    except MailProtocolError as exc:
        logger.warning("Sent copies of %s not stored: %s", account.email, exc)
        for message in messages:
            if message.pk not in states:
                gave_up = message.sent_copy_attempts >= SENT_COPY_ATTEMPTS
                states[message.pk] = _record(
                    message.pk, owner, C.FAILED if gave_up else C.PENDING, str(exc)
                )
    return states


def _append_once(client: ImapClient, folder: str, message: OutgoingMessage, owner: str) -> str:
    """APPENDs one copy, unless an earlier attempt's copy is there; "" if it is not ours now."""
    keeper = LeaseKeeper(message.pk, owner, Q(sent_copy_state=C.APPENDING))
    try:
        keeper.renew_now()  # it may have waited behind the batch's other copies
        retried = message.sent_copy_attempts > 1
        if not (retried and find_message_id(client, folder, message.message_id)):
            with reporting_writes(client, keeper):
                append(client, folder, copy_bytes(message.pk), [SEEN], message.sent_at)
    except LeaseLost:
        logger.warning("Sent copy of outbox message %s taken over by another worker", message.pk)
        return ""
    return _record(message.pk, owner, C.APPENDED)


def _sent_folder(account: MailAccount, client: ImapClient) -> str:
    return folder_for_role(account, client, FolderRole.SENT, NEW_SENT_FOLDER)


def _record(message_pk: int, owner: str, state: str, error: str = "") -> str:
    now = timezone.now()
    done = state in (C.APPENDED, C.SKIPPED)
    updated = OutgoingMessage.objects.filter(
        pk=message_pk, claimed_by=owner, sent_copy_state=C.APPENDING
    ).update(
        sent_copy_state=state,
        sent_copy_error=error,
        sent_copy_at=now if done else None,
        claimed_by="",
        claimed_until=None,
        updated_at=now,
    )
    if not updated:  # our lease ran out and another worker took the copy over
        logger.warning("Sent copy of outbox message %s changed hands before %s", message_pk, state)
        return ""
    return state
