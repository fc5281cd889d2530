"""The Sent copy: each sent message stored once in the account's Sent folder, with \\Seen.

The states are in mailbox/models/outbox.py (sent_copy_state). Every move is a conditional
UPDATE committed on its own and the APPEND runs outside any transaction, so these functions
must not be called inside `transaction.atomic()`. A copy is leased like a send (claimed_by,
claimed_until); a worker that dies after the APPEND but before recording it leaves the copy
`appending` until the lease runs out, and the next claim, seeing an earlier attempt, looks
for the Message-ID in the Sent folder before appending: exactly one copy either way.

Gmail stores what its SMTP server sends in "Sent Mail" itself, so a copy from us would be a
second one: skipped when the account's IMAP host is Gmail's, or the server says X-GM-EXT-1.
POP3 accounts are left `pending`: their local Sent folder is not filled yet.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import (
    Folder,
    FolderRole,
    OutgoingMessage,
    OutgoingState,
    SentCopyState,
)
from mailbox.protocols.errors import MailProtocolError
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_actions import SEEN, append, find_message_id
from mailbox.protocols.imap_folders import create_folder, list_folders
from mailbox.protocols.types import Protocol
from mailbox.services.connections import imap_session

logger = logging.getLogger(__name__)

C = SentCopyState
GMAIL_HOSTS = ("imap.gmail.com", "imap.googlemail.com")
SENT_COPY_ATTEMPTS = 10  # network failures before the copy is given up (the mail did go)
NEW_SENT_FOLDER = "Sent"  # created when the server has no folder with the Sent role


def provider_keeps_sent(account: MailAccount) -> bool:
    """Known before connecting: the account's IMAP server is Gmail's."""
    return account.incoming_server.host.lower().rstrip(".") in GMAIL_HOSTS


def claim_copy(message_pk: int, owner: str, now: dt.datetime | None = None) -> bool:
    """Takes the Sent copy of one sent IMAP message: pending, or its last worker's lease over."""
    now = now or timezone.now()
    lease = now + dt.timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS)
    taken = (
        OutgoingMessage.objects.filter(_copy_due(now), pk=message_pk)
        .filter(account__incoming_protocol=Protocol.IMAP)
        .update(
            sent_copy_state=C.APPENDING,
            sent_copy_attempts=F("sent_copy_attempts") + 1,
            claimed_by=owner,
            claimed_until=lease,
            updated_at=now,
        )
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
        .filter(account__incoming_protocol=Protocol.IMAP)
        .order_by("sent_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    stored = 0
    for message_pk in list(candidates):
        if claim_copy(message_pk, owner, now):
            store_claimed_copy(message_pk, owner)
            stored += 1
    return stored


def store_sent_copy(message_pk: int, owner: str) -> str:
    """Claims and stores one message's Sent copy; its sent_copy_state after, "" if not ours."""
    if not claim_copy(message_pk, owner):
        return ""
    return store_claimed_copy(message_pk, owner)


def store_claimed_copy(message_pk: int, owner: str) -> str:
    """APPENDs the copy `owner` has claimed (or finds it there already) and records it."""
    message = OutgoingMessage.objects.select_related("account").get(pk=message_pk)
    account = message.account
    if provider_keeps_sent(account):
        return _record(message_pk, owner, C.SKIPPED)
    try:
        with imap_session(account) as client:
            if client.has_capability("X-GM-EXT-1"):
                return _record(message_pk, owner, C.SKIPPED)
            folder = _sent_folder(account, client)
            retried = message.sent_copy_attempts > 1
            if not (retried and find_message_id(client, folder, message.message_id)):
                append(client, folder, bytes(message.sent_copy), [SEEN], message.sent_at)
    except MailProtocolError as exc:
        logger.warning("Sent copy of outbox message %s not stored: %s", message_pk, exc)
        gave_up = message.sent_copy_attempts >= SENT_COPY_ATTEMPTS
        return _record(message_pk, owner, C.FAILED if gave_up else C.PENDING, str(exc))
    return _record(message_pk, owner, C.APPENDED)


def _sent_folder(account: MailAccount, client: ImapClient) -> str:
    """The synced folder with the Sent role; else the server's; else a new "Sent"."""
    known = Folder.objects.filter(account=account, role=FolderRole.SENT, is_local=False)
    name = known.values_list("name", flat=True).first()
    if name:
        return name
    for folder in list_folders(client):
        if folder.role == FolderRole.SENT:
            return folder.name
    create_folder(client, NEW_SENT_FOLDER)
    return NEW_SENT_FOLDER


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
