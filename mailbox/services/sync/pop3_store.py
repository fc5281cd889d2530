"""The database side of a POP3 sync: the account's local folders, and one downloaded message
applied in one transaction (see mailbox/services/sync/pop3.py for the invariant).

The envelope comes from the header block; `store_body` (bodies.py) stores the raw file, parses
the body and fills the row, inside the same transaction, so no network I/O runs there but the
file write and the parse do: milliseconds for ordinary mail.
"""

import datetime as dt
import re
from collections.abc import Iterator, Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import Folder, FolderRole, Message, MessageLocation, Pop3Uidl
from mailbox.models.folders import SyncState
from mailbox.protocols import mime
from mailbox.services.sync.bodies import store_body
from mailbox.services.sync.envelopes import envelope_message
from mailbox.services.sync.threads import file_into_conversations

INBOX = "INBOX"
LOCAL_FOLDERS = (
    (INBOX, FolderRole.INBOX),
    ("Sent", FolderRole.SENT),
    ("Drafts", FolderRole.DRAFTS),
    ("Trash", FolderRole.TRASH),
    ("Junk", FolderRole.JUNK),
    ("Archive", FolderRole.ARCHIVE),
)
QUERY_CHUNK = 500  # names per IN (...): well inside every database's parameter limit


def ensure_local_folders(account: MailAccount) -> list[Folder]:
    """The account's local folders, created on first use (a replay creates nothing)."""
    names = [name for name, _ in LOCAL_FOLDERS]
    existing = set(
        Folder.objects.filter(account=account, name__in=names).values_list("name", flat=True)
    )
    Folder.objects.bulk_create(
        [
            Folder(
                account=account,
                name=name,
                role=role,
                is_local=True,
                # Nothing on a server to wait for, except the inbox's downloads.
                sync_state=SyncState.NEW if role == FolderRole.INBOX else SyncState.SYNCED,
            )
            for name, role in LOCAL_FOLDERS
            if name not in existing
        ],
        ignore_conflicts=True,
    )
    return list(Folder.objects.filter(account=account, name__in=names))


def chunks(items: Sequence[str], size: int = QUERY_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def known_uidls(account: MailAccount, uidls: Sequence[str]) -> set[str]:
    """Those of `uidls` downloaded before (the person may have deleted them here since)."""
    known: set[str] = set()
    for chunk in chunks(uidls):
        known.update(
            Pop3Uidl.objects.filter(account=account, uidl__in=chunk).values_list("uidl", flat=True)
        )
    return known


def store_download(inbox: Folder, uidl: str, raw: bytes) -> bool:
    """The message, its unseen INBOX location and its Pop3Uidl, all or nothing.

    False when the UIDL was stored already (a replay): the unique (account, uidl) stops it at
    the first INSERT and rolls the transaction back, so nothing is doubled.
    """
    account_id = inbox.account_id
    try:
        with transaction.atomic():
            downloaded = Pop3Uidl.objects.create(account_id=account_id, uidl=uidl)
            message = _envelope(account_id, raw, received_at=timezone.now())
            file_into_conversations(account_id, [message])
            message.save()
            location = MessageLocation.objects.create(
                folder=inbox, message=message, uid=0, sort_date=message.date
            )
            # Content once: the same bytes already here (the server holds two copies) take
            # the location over and the new row goes, so follow the location.
            store_body(account_id, message.pk, raw)
            location.refresh_from_db(fields=["message"])
            downloaded.message_id = location.message_id
            downloaded.save(update_fields=["message"])
    except IntegrityError:
        if Pop3Uidl.objects.filter(account_id=account_id, uidl=uidl).exists():
            return False
        raise
    return True


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _envelope(account_id: int, raw: bytes, received_at: dt.datetime) -> Message:
    """An envelope-only row from the header block (store_body parses the rest)."""
    parsed = mime.parse_headers(_BLANK_LINE.split(raw, maxsplit=1)[0] + b"\r\n\r\n")
    # POP3 has no INTERNALDATE: the download is the nearest thing to an arrival time.
    return envelope_message(account_id, parsed, arrived=received_at, size=len(raw))


def mark_gone(account: MailAccount, uidls: Sequence[str], when: dt.datetime) -> None:
    """Records that these messages left the server; their local copies stay."""
    for chunk in chunks(uidls):
        Pop3Uidl.objects.filter(
            account=account, uidl__in=chunk, deleted_on_server_at__isnull=True
        ).update(deleted_on_server_at=when)


def not_listed(account: MailAccount, listed: set[str]) -> list[str]:
    """Downloaded UIDLs, not yet known to be gone, that the server no longer lists."""
    present = Pop3Uidl.objects.filter(account=account, deleted_on_server_at__isnull=True)
    return [uidl for uidl in present.values_list("uidl", flat=True) if uidl not in listed]


def old_uidls(account: MailAccount, uidls: Sequence[str], cutoff: dt.datetime) -> set[str]:
    """Those of `uidls` downloaded (and so committed here) before `cutoff`."""
    old: set[str] = set()
    for chunk in chunks(uidls):
        old.update(
            Pop3Uidl.objects.filter(
                account=account, uidl__in=chunk, downloaded_at__lte=cutoff
            ).values_list("uidl", flat=True)
        )
    return old


def save_progress(inbox: Folder, *, state: str, pending: int) -> None:
    locations = MessageLocation.objects.filter(folder=inbox)
    inbox.message_count = locations.count()
    inbox.unread_count = locations.filter(is_seen=False).count()
    inbox.sync_state = state
    inbox.bodies_pending = pending
    fields = ["message_count", "unread_count", "sync_state", "bodies_pending"]
    if state == SyncState.SYNCED:
        inbox.synced_at, inbox.last_error = timezone.now(), ""
        fields += ["synced_at", "last_error"]
    inbox.save(update_fields=[*fields, "messages_on_server"])
