"""One IMAP folder brought up to date: new envelopes, flags, expunges, then bodies.

Order matters for the invariant (mailbox/models/folders.py): the cursor (UIDNEXT,
HIGHESTMODSEQ) is saved only after everything below it is stored, so a sync killed at any
moment resumes where the store is, and a batch applied twice changes nothing.
"""

from collections import deque
from dataclasses import dataclass

from django.utils import timezone

from mailbox.models import Folder, MessageLocation
from mailbox.models.folders import SyncState
from mailbox.protocols import imap_calls, imap_fetch, imap_folders, imap_sync
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_envelopes import envelopes_of
from mailbox.protocols.mime_pool import Pending
from mailbox.protocols.prefetch import prefetched
from mailbox.services.sync import statistics
from mailbox.services.sync.collector import older_objects_frozen
from mailbox.services.sync.envelopes import store_envelopes
from mailbox.services.sync.flags import apply_flags
from mailbox.services.sync.imap_bodies import Heartbeat, fetch_missing_bodies
from mailbox.services.sync.parsing import FolderParsers, folder_parsers
from mailbox.services.sync.removal import forget_locations

# Without CONDSTORE, flags are refreshed for the newest messages only: a bounded cost.
FLAG_REFRESH_LIMIT = 5000
FIRST_HEADER_BATCH = 200  # the newest envelopes land sooner, and the pipeline starts sooner


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
    with folder_parsers() as parsers:
        report.new = _new_envelopes(client, folder, state, heartbeat, parsers)
        _after_envelopes(client, folder, state, report, first_time, bodies=bodies)
        if bodies:
            report.bodies = fetch_missing_bodies(client, folder, heartbeat, parsers)
            folder.sync_state = SyncState.SYNCED
    folder.synced_at = timezone.now()
    folder.last_error = ""
    _save_progress(folder)
    return report


def _after_envelopes(
    client: ImapClient,
    folder: Folder,
    state: imap_folders.FolderState,
    report: FolderReport,
    first_time: bool,
    *,
    bodies: bool,
) -> None:
    """Flags and expunges (but on a first listing), then the cursor: the folder is listed."""
    if not first_time:
        report.flags_changed, report.removed = _changes(client, folder, state, report.removed)
    folder.uidvalidity, folder.uidnext = state.uidvalidity, state.uidnext
    folder.highestmodseq = state.highestmodseq
    folder.sync_state = SyncState.BODIES if bodies else SyncState.SYNCED
    _save_progress(folder)


def _new_envelopes(
    client: ImapClient,
    folder: Folder,
    state: imap_folders.FolderState,
    heartbeat: Heartbeat,
    parsers: FolderParsers,
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
    pool = parsers.for_stage(len(wanted), "envelopes")
    with (
        older_objects_frozen(),
        prefetched(imap_fetch.header_replies(client, wanted, first=FIRST_HEADER_BATCH)) as replies,
    ):
        # A batch's reply is read into envelopes by a helper while the next is fetched (a
        # thread) and the last one stored.
        waiting: deque[tuple[imap_fetch.HeaderReply, Pending]] = deque()
        analysed = False
        for reply in replies:  # newest first
            waiting.append((reply, pool.submit("envelopes", [reply])))
            if len(waiting) > 1:
                count += _store_envelope_batch(client, folder, *waiting.popleft(), heartbeat)
                if not analysed:  # once, after the first batch (statistics.py)
                    statistics.refresh_if_outgrown(len(wanted))
                    analysed = True
        while waiting:
            count += _store_envelope_batch(client, folder, *waiting.popleft(), heartbeat)
    return count


def _store_envelope_batch(
    client: ImapClient,
    folder: Folder,
    reply: imap_fetch.HeaderReply,
    read: Pending,
    heartbeat: Heartbeat,
) -> int:
    [envelopes] = read.result()
    if envelopes is None:  # an unreadable reply: read here, to fail with the typed error
        with imap_calls.replies(client, "UID FETCH (headers)"):
            envelopes = envelopes_of(imap_fetch.read_header_reply(reply))
    count = store_envelopes(folder, envelopes)
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
