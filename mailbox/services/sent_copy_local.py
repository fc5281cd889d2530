"""The Sent copy of a POP3 account: its Sent folder is local (mailbox/services/sync/
pop3_store.py makes it), so the copy is stored here rather than APPENDed.

The message, its read location in the local Sent folder, and the outbox row's move from
`appending` (ours) to `appended` are one transaction: all or nothing, so a worker that dies
anywhere leaves either no copy and a claim the sweep takes again, or one copy recorded. The
raw file is written inside it (content-addressed: a rolled-back write only leaves a file the
next attempt reuses), as store_download does for POP3 downloads.
"""

import re

from django.db import transaction
from django.utils import timezone

from mailbox.models import FolderRole, MessageLocation, OutgoingMessage, SentCopyState
from mailbox.protocols import mime
from mailbox.services.actions.local import refresh_counts
from mailbox.services.sync.bodies import store_body
from mailbox.services.sync.envelopes import envelope_message
from mailbox.services.sync.pop3_store import ensure_local_folders
from mailbox.services.sync.threads import file_into_conversations

C = SentCopyState
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def copy_bytes(message_pk: int) -> bytes:
    """One message's Sent copy, read when it is stored (a batch's copies are never all held)."""
    return bytes(OutgoingMessage.objects.values_list("sent_copy", flat=True).get(pk=message_pk))


def store_locally(message: OutgoingMessage, owner: str) -> str:
    """Stores the copy `owner` has claimed in the account's local Sent folder; "appended", or
    "" when the claim is no longer ours (another worker took it over, or stored it)."""
    account = message.account
    folders = ensure_local_folders(account)
    sent = next(f for f in folders if f.role == FolderRole.SENT)
    raw = copy_bytes(message.pk)
    now = timezone.now()
    with transaction.atomic():
        recorded = OutgoingMessage.objects.filter(
            pk=message.pk, claimed_by=owner, sent_copy_state=C.APPENDING
        ).update(
            sent_copy_state=C.APPENDED,
            sent_copy_error="",
            sent_copy_at=now,
            claimed_by="",
            claimed_until=None,
            updated_at=now,
        )
        if not recorded:
            return ""
        head = _BLANK_LINE.split(raw, maxsplit=1)[0] + b"\r\n\r\n"
        row = envelope_message(
            account.pk, mime.parse_headers(head), arrived=message.sent_at or now, size=len(raw)
        )
        file_into_conversations(account.pk, [row])
        row.save()
        MessageLocation.objects.create(
            folder=sent, message=row, uid=0, is_seen=True, sort_date=row.date
        )
        store_body(account.pk, row.pk, raw)
        refresh_counts([sent.pk])
    return C.APPENDED
