"""Message bodies into the store: raw file, parsed text, attachments, search text.

A batch at a time: the raw bytes are stored first (mailbox/storage.py), then one
short transaction fills the rows. When the same content is already stored for the account (a
message moved or copied by another client, a second label) or comes twice in the batch, the
new envelope's locations move to that content and the duplicate row goes: content once,
locations many. HTML is sanitised on first open (mailbox.content), not here, so the first sync
spends its time on what the list and search need.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from mailbox import storage
from mailbox.models import Attachment, Message, MessageLocation
from mailbox.models.bulk import rows_among, update_rows
from mailbox.models.messages import BodyState
from mailbox.protocols import mime
from mailbox.protocols.imap_envelopes import envelope_search_text
from mailbox.protocols.mime_text import html_to_text
from mailbox.search import search_text as stored_search_text

FILLED_FIELDS = [
    "sha256",
    "raw_path",
    "size",
    "snippet",
    "has_attachments",
    "text",
    "parse_problems",
    "body_state",
    "search_text",
]


@dataclass(frozen=True)
class _Read:
    message_id: int
    stored: storage.StoredRaw
    parsed: mime.Parsed


def store_bodies(
    account_id: int,
    items: Iterable[tuple[int, bytes]],
    parsed: Sequence[mime.Parsed] | None = None,
    prepared: Sequence[storage.PreparedRaw] | None = None,
) -> int:
    """Fills envelope-only messages (by id) from their raw bytes; returns how many.

    A message that is no longer envelope-only (folded into a twin or filled by a twin sync
    meanwhile, or gone) is left as it is. `parsed`: each raw message already parsed, in the
    same order; else they are parsed here. A ParsedBody (no header fields) is completed with
    what the envelope row holds. `prepared`: each raw message already through
    storage.prepare_many(), in the same order."""
    batch = list(items)
    envelopes = _waiting_envelopes([message_id for message_id, _ in batch])
    keep = [i for i, (message_id, _) in enumerate(batch) if message_id in envelopes]
    if not keep:
        return 0
    raws = [batch[i][1] for i in keep]
    ready = (
        storage.prepare_many(account_id, raws) if prepared is None else [prepared[i] for i in keep]
    )
    storage.insert_prepared(account_id, ready)
    reads = [
        _Read(batch[i][0], item.stored, mime.parse_message(raw) if parsed is None else parsed[i])
        for i, raw, item in zip(keep, raws, ready, strict=True)
    ]
    try:
        with transaction.atomic():
            _apply(account_id, reads, envelopes)
    except IntegrityError:  # a twin sync stored some of this content meanwhile: one by one
        for read in reads:
            with transaction.atomic():
                _apply(account_id, [read], envelopes)
    return len(reads)


def store_body(account_id: int, message_id: int, raw: bytes) -> None:
    store_bodies(account_id, [(message_id, raw)])


def _apply(account_id: int, reads: list[_Read], envelopes: dict[int, tuple[str, str]]) -> None:
    holder = _holders(account_id, {read.stored.sha256 for read in reads})
    filled, attachments, folded = [], [], {}
    for read in reads:
        twin_id = holder.get(read.stored.sha256)
        if twin_id is not None and twin_id != read.message_id:
            folded[read.message_id] = twin_id
            continue
        holder[read.stored.sha256] = read.message_id
        filled.append(_filled_values(read, envelopes[read.message_id]))
        attachments += [_attachment(read.message_id, info) for info in read.parsed.attachments]
    update_rows(Message, FILLED_FIELDS, filled)
    Attachment.objects.bulk_create(attachments, ignore_conflicts=True)
    for duplicate_id, twin_id in folded.items():
        MessageLocation.objects.filter(message_id=duplicate_id).update(message_id=twin_id)
    Message.objects.filter(pk__in=list(folded)).delete()


def _waiting_envelopes(message_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(search text, problems) of those messages still envelope-only, by id."""
    columns = "id, body_state, search_text, parse_problems"
    sql = f"SELECT {columns} FROM {Message._meta.db_table} WHERE id"  # noqa: S608 (names from the model)
    return {
        pk: (search_text, problems)
        for pk, state, search_text, problems in rows_among(sql, message_ids)
        if state == BodyState.ENVELOPE
    }


def _holders(account_id: int, shas: set[str]) -> dict[str, int]:
    """The account's messages already holding any of this content, by SHA-256.

    The account is compared as account_id + 0, which no index serves: given a plain
    account_id = ?, PostgreSQL in a fresh install's first sync (statistics of an empty
    table) read all of the account's messages through its (account, body_state) index for
    every batch. So the hashes lead, through the content_once_by_hash index."""
    table = Message._meta.db_table
    sql = (
        f"SELECT sha256, id FROM {table} WHERE account_id + 0 = %s AND NOT (sha256 = '') AND sha256"  # noqa: S608 (names from the model)
    )
    return dict(rows_among(sql, sorted(shas), [account_id]))


def _filled_values(read: _Read, envelope: tuple[str, str]) -> list[object]:
    """FILLED_FIELDS' values, then the id. A whole parsed message rebuilds the search text
    from its own headers; a body only adds to the envelope's."""
    parsed = read.parsed
    if isinstance(parsed, mime.ParsedMessage):
        header_text, problems = envelope_search_text(parsed), list(parsed.problems)
    else:
        header_text, field_problems = envelope
        problems = [*filter(None, field_problems.split("\n")), *parsed.problems]
    state = BodyState.PARTIAL if _is_partial(problems) else BodyState.COMPLETE
    # HTML-only mail is searchable by its visible text.
    body = parsed.text or (html_to_text(parsed.html) if parsed.html else "")
    return [
        read.stored.sha256,
        read.stored.path,
        read.stored.size,
        parsed.snippet[:300],
        parsed.has_attachments,
        parsed.text,
        "\n".join(dict.fromkeys(problems)),
        state,
        stored_search_text(header_text, body),
        read.message_id,
    ]


def _is_partial(problems: list[str]) -> bool:
    """Problems that lost content (not mere charset guesses) mark the message."""
    lossy = ("unreadable", "truncated", "too-deep", "too-many-parts", "empty", "no-headers")
    return any(problem.split(":", 1)[0] in lossy for problem in problems)


def _attachment(message_id: int, info: mime.AttachmentInfo) -> Attachment:
    return Attachment(
        message_id=message_id,
        part_id=info.part_id[:100],
        filename=(info.filename or "")[:255],
        content_type=info.content_type[:255],
        size=info.size,
        content_id=(info.content_id or "")[:255],
        is_inline=info.is_inline,
    )
