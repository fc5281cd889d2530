"""The bodies stage of an IMAP folder: raw messages fetched, stored, parsed, searchable.

A pipeline of three, a batch at each step: a thread fetches the next batch and readies it for
the store (hash, compression, a big message's file: mailbox/protocols/prefetch.py), a helper
process parses this one (parsing.py), and the worker writes the last one to the database.
The worker alone touches the database; the thread alone the IMAP connection while it runs.
"""

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation
from mailbox.models.messages import BodyState
from mailbox.protocols import imap_fetch
from mailbox.protocols.errors import MessageMissing
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_fetch import STREAM_THRESHOLD
from mailbox.protocols.mime_pool import Pending
from mailbox.protocols.prefetch import prefetched
from mailbox.services.sync.bodies import store_bodies
from mailbox.services.sync.collector import older_objects_frozen
from mailbox.services.sync.parsing import FolderParsers

BODY_BATCH = 500
FIRST_BODY_BATCH = 100  # the helper starts parsing sooner: measured 0.1-0.2 s off the stage
BODY_BATCH_BYTES = 32 * 1024 * 1024  # a batch of big messages is held in memory no longer
PARSED_AHEAD = 2  # batches handed to the helper while the oldest is written

Heartbeat = Callable[[], None]


def fetch_missing_bodies(
    client: ImapClient,
    folder: Folder,
    heartbeat: Heartbeat,
    parsers: FolderParsers,
) -> int:
    """Bodies of this folder's envelope-only messages, newest first, in batches.

    The list is read once: asking the database again for every batch cost more than the
    batches themselves on PostgreSQL. Mail that arrives meanwhile waits for the next sync.
    """
    todo = _bodies_to_fetch(folder)
    done = 0
    pool = parsers.for_stage(len(todo), "body")
    with (
        older_objects_frozen(),
        prefetched(_fetched_batches(client, folder.account_id, todo)) as fetched_batches,
    ):
        # Batches at once: the next fetched and compressed (a thread), one or two parsed
        # (a helper), the oldest written to the database (here). Two parsed ahead let the
        # helper use the time the writes take over its own to absorb a big message's parse,
        # unless the two hold much: then one, as memory goes before speed.
        waiting: deque[tuple[FetchedBatch, Pending]] = deque()
        for fetched in fetched_batches:
            _save_pending(folder, fetched.left)
            waiting.append((fetched, pool.submit("body", [raw for _, raw in fetched.items])))
            while len(waiting) > PARSED_AHEAD or (
                len(waiting) > 1 and _held(waiting) > BODY_BATCH_BYTES
            ):
                done += _store_body_batch(folder.account_id, *waiting.popleft(), heartbeat)
        while waiting:
            done += _store_body_batch(folder.account_id, *waiting.popleft(), heartbeat)
    folder.bodies_pending = 0
    return done


def _bodies_to_fetch(folder: Folder) -> list[tuple[int, int, int]]:
    """(uid, message id, size) of the folder's envelope-only messages, newest first.

    Two one-table queries, matched here, each linear in its rows whatever PostgreSQL's
    statistics say. Asked as one join, it planned a nested loop over both tables' rows while
    its statistics still described the tables before the envelope stage filled them (a fresh
    install's first sync: 50 million comparisons, 4.9 s for 10,000 messages); asked with
    `message_id = ANY(ids)`, it checked the whole array for every location (0.2-0.45 s).
    uid > 0: a location moved here waits for its UID (a placeholder below zero)."""
    sizes = dict(
        Message.objects.filter(
            account_id=folder.account_id, body_state=BodyState.ENVELOPE
        ).values_list("pk", "size")
    )
    if not sizes:
        return []
    located = MessageLocation.objects.filter(folder=folder, uid__gt=0, message_id__gte=min(sizes))
    return sorted(
        (
            (uid, message_id, sizes[message_id])
            for uid, message_id in located.values_list("uid", "message_id")
            if message_id in sizes
        ),
        reverse=True,
    )


def _body_batches(todo: list[tuple[int, int, int]]) -> Iterator[tuple[int, list]]:
    """(index of the first, batch): BODY_BATCH messages or BODY_BATCH_BYTES, whichever first;
    the first batch FIRST_BODY_BATCH messages, so the helper has work sooner."""
    start, size = 0, 0
    for index, (_, _, message_size) in enumerate(todo):
        size += message_size
        wanted = BODY_BATCH if start else FIRST_BODY_BATCH
        if index + 1 - start >= wanted or size >= BODY_BATCH_BYTES:
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
    """Each batch's small messages together, and big ones one by one through a file, each
    ready for the store. A big message comes after the next batch of small ones, not with its
    own: several together left the writer waiting on their parse, with nothing else to do.
    Runs in the prefetch thread: IMAP and files, no database."""
    big: deque[tuple[int, int]] = deque()  # (uid, message id)
    for start, batch in _body_batches(todo):
        left = len(todo) - start
        message_of_uid = {uid: message_id for uid, message_id, _ in batch}
        big += [(uid, message_id) for uid, message_id, size in batch if size > STREAM_THRESHOLD]
        small = [uid for uid, _, size in batch if size <= STREAM_THRESHOLD]
        fetched = imap_fetch.fetch_bodies(client, small, batch=len(small) or 1)
        yield _ready(account_id, left, [(message_of_uid[uid], raw) for uid, raw in fetched])
        if big:
            yield from _big_one(client, account_id, *big.popleft(), left=left)
    while big:
        yield from _big_one(client, account_id, *big.popleft(), left=len(big) + 1)


def _big_one(
    client: ImapClient, account_id: int, uid: int, message_id: int, *, left: int
) -> Iterator[FetchedBatch]:
    raw = _fetch_big(client, uid)
    if raw is not None:
        yield _ready(account_id, left, [(message_id, raw)])


def _held(waiting: deque[tuple[FetchedBatch, Pending]]) -> int:
    """Raw bytes of the batches waiting (as fetched; the helper holds a copy meanwhile)."""
    return sum(len(raw) for fetched, _ in waiting for _, raw in fetched.items)


def _ready(account_id: int, left: int, items: list[tuple[int, bytes]]) -> FetchedBatch:
    prepared = storage.prepare_many(account_id, [raw for _, raw in items])
    return FetchedBatch(left, items, prepared)


def _store_body_batch(
    account_id: int, fetched: FetchedBatch, parsed: Pending, heartbeat: Heartbeat
) -> int:
    done = store_bodies(account_id, fetched.items, parsed.result(), fetched.prepared)
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
