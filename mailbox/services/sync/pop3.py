"""A POP3 account synced into the local store: new mail by UIDL into a local INBOX.

POP3 has no folders, UIDs or flags on the server, so all of the account's folders are local
(`is_local`; INBOX, Sent, Drafts, Trash, Junk, Archive; locations with uid 0), and the set of
`Pop3Uidl` rows is the whole cursor.

Invariant: a Pop3Uidl row exists exactly when its message's content is, or was, in the local
store. It is written in the transaction that writes the Message and its INBOX location, never
before, and it is never removed, so a message the person deleted here does not come back.

Each new UIDL, newest (highest message number) first:
1. RETR, outside any transaction: small messages into memory, big ones streamed into a
   temporary file first. A broken connection raises before anything is stored.
2. One transaction (pop3_store.store_download): the Pop3Uidl row first (the unique (account,
   uidl) stops a replay there, and the rollback makes it a no-op), the envelope Message, its
   conversation and unseen INBOX location, then `store_body`: the raw file (named by the
   bytes' hash and renamed into place), the parsed body, the content folded into an existing
   twin. A crash before the commit leaves at most an unreferenced file, which the same bytes
   reuse, and no row, so the next sync downloads the message again. Never twice, never lost.

Leave on server is the default. With MAIL_POP3_DELETE_AFTER_DAYS = N, messages still listed
whose Pop3Uidl is older than N days (so committed here) are marked with DELE, and the server
removes them at QUIT; if QUIT never arrives they are still listed next time and go then.
A message gone from the server (deleted here or by another client) stays in the local store,
which is then the only copy; `deleted_on_server_at` records when that was noticed.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from accounts.models import MailAccount
from mailbox import storage
from mailbox.models import Folder, FolderRole
from mailbox.models.folders import SyncState
from mailbox.protocols.pop3 import Pop3Client
from mailbox.protocols.pop3_sync import (
    Pop3Message,
    delete,
    fetch_message,
    fetch_message_to,
    list_uidls,
)
from mailbox.services.connections import pop3_session
from mailbox.services.sync import pop3_store
from mailbox.services.sync.imap_folder import FolderReport

if TYPE_CHECKING:  # account.py imports this module to call sync_pop3_account
    from mailbox.services.sync.account import SyncReport

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
STREAM_THRESHOLD = 4 * MiB  # LIST size above this: through a temporary file, not memory
BATCH_MESSAGES = 25  # heartbeat and progress after this many messages...
BATCH_BYTES = 32 * MiB  # ...or this many bytes, whichever comes first

Heartbeat = Callable[[], None]


def sync_pop3_account(account: MailAccount, report: "SyncReport", heartbeat: Heartbeat) -> None:
    """Downloads the account's new mail, then deletes old mail from the server if so set."""
    folders = pop3_store.ensure_local_folders(account)
    inbox = next(folder for folder in folders if folder.role == FolderRole.INBOX)
    report.folders = len(folders)
    folder_report = report.folder_reports.setdefault(inbox.name, FolderReport())
    with pop3_session(account) as client:
        listed = list_uidls(client)
        on_server = {entry.uidl for entry in listed}
        pop3_store.mark_gone(account, pop3_store.not_listed(account, on_server), timezone.now())
        inbox.messages_on_server = len(listed)
        _download(client, inbox, _wanted(account, listed), report, folder_report, heartbeat)
        doomed = _due_for_deletion(account, listed)
        delete(client, [entry.msgno for entry in doomed])
    # QUIT has removed them; should it not have, they are listed (and marked) again next time.
    pop3_store.mark_gone(account, [entry.uidl for entry in doomed], timezone.now())
    if doomed:
        logger.info("deleted %d messages from account %s's server", len(doomed), account.pk)
    inbox.messages_on_server = len(listed) - len(doomed)
    pop3_store.save_progress(inbox, state=SyncState.SYNCED, pending=0)
    report.messages = sum(folder.message_count for folder in Folder.objects.filter(account=account))


def _wanted(account: MailAccount, listed: Sequence[Pop3Message]) -> list[Pop3Message]:
    """The messages not downloaded before, newest first."""
    known = pop3_store.known_uidls(account, [entry.uidl for entry in listed])
    return sorted(
        (entry for entry in listed if entry.uidl not in known),
        key=lambda entry: entry.msgno,
        reverse=True,
    )


def _download(
    client: Pop3Client,
    inbox: Folder,
    wanted: list[Pop3Message],
    report: "SyncReport",
    folder_report: FolderReport,
    heartbeat: Heartbeat,
) -> None:
    pending = len(wanted)
    pop3_store.save_progress(inbox, state=SyncState.BODIES, pending=pending)
    for batch in _batches(wanted):
        for entry in batch:
            if pop3_store.store_download(inbox, entry.uidl, _fetch(client, entry)):
                report.new += 1
                folder_report.new += 1
                folder_report.bodies += 1
        pending -= len(batch)
        pop3_store.save_progress(inbox, state=SyncState.BODIES, pending=pending)
        heartbeat()


def _batches(wanted: list[Pop3Message]) -> Iterator[list[Pop3Message]]:
    """Runs of messages small enough that the lease is renewed often, big messages or not."""
    batch: list[Pop3Message] = []
    size = 0
    for entry in wanted:
        batch.append(entry)
        size += entry.size
        if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _fetch(client: Pop3Client, entry: Pop3Message) -> bytes:
    """The whole message. A big one goes through a file rather than poplib's list of lines
    and a buffer, so it is in memory once, for the parser, which wants it whole."""
    if entry.size <= STREAM_THRESHOLD:
        return fetch_message(client, entry.msgno)
    with storage.spool() as sink:
        fetch_message_to(client, entry.msgno, sink)
        sink.seek(0)
        return sink.read()


def _due_for_deletion(account: MailAccount, listed: Sequence[Pop3Message]) -> list[Pop3Message]:
    days = settings.MAIL_POP3_DELETE_AFTER_DAYS
    if days is None:  # leave on server
        return []
    cutoff = timezone.now() - dt.timedelta(days=days)
    old = pop3_store.old_uidls(account, [entry.uidl for entry in listed], cutoff)
    return [entry for entry in listed if entry.uidl in old]
