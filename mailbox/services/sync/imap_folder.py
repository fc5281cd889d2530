"""One IMAP folder brought up to date: new envelopes, flags, expunges, then bodies.

Order matters for the invariant (mailbox/models/folders.py): the cursor (UIDNEXT,
HIGHESTMODSEQ) is saved only after everything below it is stored, so a sync killed at any
moment resumes where the store is, and a batch applied twice changes nothing.
"""

from collections import deque
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
from mailbox.protocols.mime_pool import Pending
from mailbox.protocols.prefetch import prefetched
from mailbox.services.sync.bodies import store_bodies
from mailbox.services.sync.envelopes import header_block, store_envelopes
from mailbox.services.sync.flags import apply_flags
from mailbox.services.sync.parsing import parser_pool
from mailbox.services.sync.removal import forget_locations

BODY_BATCH = 500
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
        MessageLocation.objects.filter(folder=folder, uid__gt=0, uid__gte=since).values_list(
            "uid", flat=True
        )
    )
    wanted = [uid for uid in present if uid >= since and uid not in stored]
    count = 0
    with (
        parser_pool(len(wanted)) as pool,
        prefetched(imap_fetch.fetch_headers(client, wanted)) as headers,
    ):
        # A batch's headers are parsed by a helper while the next is fetched (a thread) and
        # the last one stored.
        waiting: deque[tuple[list[imap_fetch.HeaderInfo], Pending]] = deque()
        for batch in headers:  # newest first
            waiting.append((batch, pool.submit("headers", [header_block(i) for i in batch])))
            if len(waiting) > 1:
                count += _store_envelope_batch(folder, *waiting.popleft(), heartbeat)
        while waiting:
            count += _store_envelope_batch(folder, *waiting.popleft(), heartbeat)
    return count


def _store_envelope_batch(
    folder: Folder, batch: list[imap_fetch.HeaderInfo], parsed: Pending, heartbeat: Heartbeat
) -> int:
    count = store_envelopes(folder, batch, parsed.result())
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
    with (
        parser_pool(len(todo)) as pool,
        prefetched(_fetched_batches(client, folder.account_id, todo)) as fetched_batches,
    ):
        # Three batches at once: the next fetched and compressed (a thread), this one parsed
        # (a helper), the last one written to the database (here).
        waiting: deque[tuple[FetchedBatch, Pending]] = deque()
        for fetched in fetched_batches:
            _save_pending(folder, fetched.left)
            waiting.append((fetched, pool.submit("body", [raw for _, raw in fetched.items])))
            if len(waiting) > 1:
                done += _store_body_batch(folder.account_id, *waiting.popleft(), heartbeat)
        while waiting:
            done += _store_body_batch(folder.account_id, *waiting.popleft(), heartbeat)
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


@dataclass(frozen=True)
class FetchedBatch:
    left: int  # bodies still to fetch when this batch began
    items: list[tuple[int, bytes]]  # (message id, raw message)
    prepared: list[storage.PreparedRaw]  # each item hashed, compressed, or its file written


def _fetched_batches(
    client: ImapClient, account_id: int, todo: list[tuple[int, int, int]]
) -> Iterator[FetchedBatch]:
    """Each batch's small messages together, then its big ones one by one, through a file;
    each ready for the store. Runs in the prefetch thread: IMAP and files, no database."""
    for start, batch in _body_batches(todo):
        message_of_uid = {uid: message_id for uid, message_id, _ in batch}
        big = [uid for uid, _, size in batch if size > STREAM_THRESHOLD]
        small = [uid for uid in message_of_uid if uid not in big]
        fetched = imap_fetch.fetch_bodies(client, small, batch=len(small) or 1)
        items = [(message_of_uid[uid], raw) for uid, raw in fetched]
        yield _ready(account_id, len(todo) - start, items)
        for uid in big:
            raw = _fetch_big(client, uid)
            if raw is not None:
                yield _ready(account_id, len(todo) - start, [(message_of_uid[uid], raw)])


def _ready(account_id: int, left: int, items: list[tuple[int, bytes]]) -> FetchedBatch:
    prepared = storage.prepare_many(account_id, [raw for _, raw in items])
    return FetchedBatch(left, items, prepared)


def _store_body_batch(
    account_id: int, fetched: FetchedBatch, parsed: Pending, heartbeat: Heartbeat
) -> int:
    results = parsed.result()
    # Folded into a twin or filled by a twin sync meanwhile: not filled again.
    waiting = set(
        Message.objects.filter(
            pk__in=[message_id for message_id, _ in fetched.items], body_state=BodyState.ENVELOPE
        ).values_list("pk", flat=True)
    )
    keep = [i for i, (message_id, _) in enumerate(fetched.items) if message_id in waiting]
    done = store_bodies(
        account_id,
        [fetched.items[i] for i in keep],
        [results[i] for i in keep],
        [fetched.prepared[i] for i in keep],
    )
    heartbeat()
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


def _save_pending(folder: Folder, left: int) -> None:
    """Bodies still to fetch, for the progress shown; the counts do not change meanwhile."""
    if folder.bodies_pending != left:
        folder.bodies_pending = left
        folder.save(update_fields=["bodies_pending"])


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
