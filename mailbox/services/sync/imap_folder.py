"""One IMAP folder brought up to date: new envelopes, flags, expunges, then bodies.

Order matters for the invariant (mailbox/models/folders.py): the cursor (UIDNEXT,
HIGHESTMODSEQ) is saved only after everything below it is stored, so a sync killed at any
moment resumes where the store is, and a batch applied twice changes nothing.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils import timezone

from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation
from mailbox.models.folders import SyncState
from mailbox.models.messages import BodyState
from mailbox.protocols import imap_fetch, imap_folders, imap_sync
from mailbox.protocols.errors import MessageMissing
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_fetch import STREAM_THRESHOLD
from mailbox.services.sync.bodies import store_bodies
from mailbox.services.sync.envelopes import store_envelopes
from mailbox.services.sync.flags import apply_flags
from mailbox.services.sync.removal import forget_locations

BODY_BATCH = 250
BODY_BATCH_BYTES = 32 * 1024 * 1024  # a batch of big messages is held in memory no longer
# Without CONDSTORE, flags are refreshed for the newest messages only: a bounded cost.
FLAG_REFRESH_LIMIT = 5000

Heartbeat = Callable[[], None]


@dataclass
class FolderReport:
    new: int = 0
    flags_changed: int = 0
    removed: int = 0
    bodies: int = 0


def sync_folder(
    client: ImapClient, folder: Folder, heartbeat: Heartbeat, *, bodies: bool = True
) -> FolderReport:
    report = FolderReport()
    state = imap_folders.select(client, folder.name, readonly=True)
    if folder.uidvalidity is not None and folder.uidvalidity != state.uidvalidity:
        report.removed += forget_locations(folder, None)
        folder.forget_cursor()
    folder.sync_state = SyncState.ENVELOPES
    folder.messages_on_server = state.exists
    folder.save(
        update_fields=[
            "uidvalidity",
            "uidnext",
            "highestmodseq",
            "sync_state",
            "messages_on_server",
        ]
    )
    # A first listing of an empty folder reads every flag itself; after an interrupted one,
    # what the earlier run stored may have changed since, so it is checked like any resync.
    first_time = folder.uidnext is None and not folder.locations.exists()
    report.new = _new_envelopes(client, folder, state, heartbeat)
    if not first_time:
        report.flags_changed, report.removed = _changes(client, folder, state, report.removed)
    folder.uidvalidity, folder.uidnext = state.uidvalidity, state.uidnext
    folder.highestmodseq = state.highestmodseq
    folder.sync_state = SyncState.BODIES if bodies else SyncState.SYNCED
    _save_progress(folder)
    if bodies:
        report.bodies = fetch_missing_bodies(client, folder, heartbeat)
        folder.sync_state = SyncState.SYNCED
    folder.synced_at = timezone.now()
    folder.last_error = ""
    _save_progress(folder)
    return report


def _new_envelopes(
    client: ImapClient, folder: Folder, state: imap_folders.FolderState, heartbeat: Heartbeat
) -> int:
    present = imap_sync.uids_in(client)
    since = folder.uidnext or 0
    stored = set(
        MessageLocation.objects.filter(folder=folder, uid__gte=since).values_list("uid", flat=True)
    )
    wanted = [uid for uid in present if uid >= since and uid not in stored]
    count = 0
    for batch in imap_fetch.fetch_headers(client, wanted):  # newest first
        count += store_envelopes(folder, batch)
        heartbeat()
    return count


def _changes(
    client: ImapClient, folder: Folder, state: imap_folders.FolderState, removed: int
) -> tuple[int, int]:
    """Flag changes and expunges since the last sync: (flags changed, locations removed)."""
    if folder.highestmodseq and state.highestmodseq:
        if folder.highestmodseq == state.highestmodseq:
            return 0, removed
        changes = imap_sync.changes_since(client, folder.highestmodseq)
        flagged = apply_flags(folder, {c.uid: c.flags for c in changes.changed})
        if changes.vanished is not None:
            return flagged, removed + forget_locations(folder, set(changes.vanished))
    else:
        newest = list(
            MessageLocation.objects.filter(folder=folder, uid__gt=0)
            .order_by("-uid")
            .values_list("uid", flat=True)[:FLAG_REFRESH_LIMIT]
        )
        flagged = apply_flags(folder, imap_sync.flags_of(client, newest))
    known = set(
        MessageLocation.objects.filter(folder=folder, uid__gt=0).values_list("uid", flat=True)
    )
    gone = set(imap_sync.vanished_uids(known, imap_sync.uids_in(client)))
    return flagged, removed + forget_locations(folder, gone)


def fetch_missing_bodies(client: ImapClient, folder: Folder, heartbeat: Heartbeat) -> int:
    """Bodies of this folder's envelope-only messages, newest first, in batches.

    The list is read once: asking the database again for every batch cost more than the
    batches themselves on PostgreSQL. Mail that arrives meanwhile waits for the next sync.
    """
    # uid > 0: a location moved here waits for its UID (a placeholder below zero).
    todo = list(
        MessageLocation.objects.filter(
            folder=folder, uid__gt=0, message__body_state=BodyState.ENVELOPE
        )
        .order_by("-uid")
        .values_list("uid", "message_id", "message__size")
    )
    done = 0
    for start, batch in _body_batches(todo):
        folder.bodies_pending = len(todo) - start
        _save_progress(folder)
        done += _store_batch(client, folder.account_id, batch)
        heartbeat()
    folder.bodies_pending = 0
    return done


def _body_batches(todo: list[tuple[int, int, int]]) -> Iterator[tuple[int, list]]:
    """(index of the first, batch): BODY_BATCH messages or BODY_BATCH_BYTES, whichever first."""
    start, size = 0, 0
    for index, (_, _, message_size) in enumerate(todo):
        size += message_size
        if index + 1 - start >= BODY_BATCH or size >= BODY_BATCH_BYTES:
            yield start, todo[start : index + 1]
            start, size = index + 1, 0
    if start < len(todo):
        yield start, todo[start:]


def _store_batch(client: ImapClient, account_id: int, batch: list[tuple[int, int, int]]) -> int:
    # Folded into a twin or filled by a twin sync meanwhile: nothing to fetch.
    waiting = set(
        Message.objects.filter(
            pk__in=[message_id for _, message_id, _ in batch], body_state=BodyState.ENVELOPE
        ).values_list("pk", flat=True)
    )
    message_of_uid = {uid: message_id for uid, message_id, _ in batch if message_id in waiting}
    big = [uid for uid, _, size in batch if size > STREAM_THRESHOLD and uid in message_of_uid]
    small = [uid for uid in message_of_uid if uid not in big]
    done = store_bodies(
        account_id,
        ((message_of_uid[uid], raw) for uid, raw in imap_fetch.fetch_bodies(client, small)),
    )
    for uid in big:
        raw = _fetch_big(client, uid)
        if raw is not None:
            done += store_bodies(account_id, [(message_of_uid[uid], raw)])
    return done


def _fetch_big(client: ImapClient, uid: int) -> bytes | None:
    """A big message in partial fetches through a file, so it is in memory once, for the
    parser (which wants it whole), rather than in imaplib's buffers and our copies too."""
    with storage.spool() as sink:
        try:
            imap_fetch.fetch_body_to(client, uid, sink)
        except MessageMissing:  # expunged meanwhile: the next sync forgets its location
            return None
        sink.seek(0)
        return sink.read()


def _save_progress(folder: Folder) -> None:
    # A message deleted here stays hidden (is_deleted) until the server confirms: not counted.
    locations = MessageLocation.objects.filter(folder=folder, is_deleted=False)
    folder.message_count = locations.count()
    folder.unread_count = locations.filter(is_seen=False).count()
    folder.save(
        update_fields=[
            "uidvalidity",
            "uidnext",
            "highestmodseq",
            "sync_state",
            "message_count",
            "unread_count",
            "bodies_pending",
            "synced_at",
            "last_error",
        ]
    )
