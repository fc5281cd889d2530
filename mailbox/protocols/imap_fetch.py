"""Fetching from the selected folder: the message list's headers fast, bodies streamed.

`fetch_headers()` asks for exactly what a message list needs — UID, FLAGS, RFC822.SIZE,
INTERNALDATE, MODSEQ (with CONDSTORE), Gmail's ids and labels (with X-GM-EXT-1) and a few
header fields as raw bytes — not ENVELOPE, which IMAPClient parses about three times more
slowly. Newest (highest UID) first, in batches, so a caller can store and show the newest
envelopes while the rest of a big folder is still coming. Its reply is keyed by the UID each
response carries: IMAPClient's fetch() files a response without one (an unsolicited flag
update for another message) under its sequence number, which may equal a UID asked for.

`fetch_bodies()` fetches whole messages in batches; messages bigger than STREAM_THRESHOLD
belong to `fetch_body_to()`, which reads one in partial fetches (`BODY.PEEK[]<offset.length>`)
into a file, so no more than a chunk is in memory. Both PEEK: \\Seen is never set.

A connection cut inside a literal raises ProtocolFailure from imaplib's abort: the batch is
lost whole, never returned short.
"""

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from imapclient.imap_utf7 import decode as decode_utf7

from mailbox.protocols.errors import MessageMissing, ProtocolFailure
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_calls import (
    batches,
    message_flags,
    replies,
    responses_by_uid,
    text,
    uid_command,
)
from mailbox.protocols.imap_sync import uids_in

HEADER_FIELDS = (
    "FROM", "TO", "CC", "SUBJECT", "DATE", "MESSAGE-ID", "IN-REPLY-TO", "REFERENCES",
    "CONTENT-TYPE", "REPLY-TO",
)  # fmt: skip
HEADER_ITEM = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]"
_HEADER_KEY = HEADER_ITEM.replace(".PEEK", "").encode()  # how Dovecot and Gmail echo it
_HEADER_KEY_START = b"BODY[HEADER.FIELDS"  # others may echo the field list differently
BASE_ITEMS = ("UID", "FLAGS", "RFC822.SIZE", "INTERNALDATE")
GMAIL_ITEMS = ("X-GM-MSGID", "X-GM-THRID", "X-GM-LABELS")
HEADER_BATCH = 1000
BODY_BATCH = 200
MiB = 1024 * 1024
BODY_CHUNK = MiB
STREAM_THRESHOLD = 4 * MiB  # RFC822.SIZE above this: fetch_body_to(), not fetch_bodies()


@dataclass(frozen=True)
class HeaderInfo:
    uid: int
    flags: frozenset[str]
    size: int  # RFC822.SIZE
    internal_date: dt.datetime | None  # aware, in the server's offset
    modseq: int | None  # with CONDSTORE
    headers: bytes  # the HEADER_FIELDS lines as the server sent them (folded, RFC 2047)
    gmail_message_id: int | None = None  # X-GM-MSGID: the same message under every label
    gmail_thread_id: int | None = None
    gmail_labels: tuple[str, ...] = ()


def fetch_headers(
    client: ImapClient, uids: Iterable[int] | Literal["all"], *, batch: int = HEADER_BATCH
) -> Iterator[list[HeaderInfo]]:
    """Batches of HeaderInfo, highest UIDs first; messages expunged meanwhile are left out."""
    for reply in header_replies(client, uids, batch=batch):
        with replies(client, "UID FETCH (headers)"):
            infos = read_header_reply(reply)
        yield infos


@dataclass(frozen=True)
class HeaderReply:
    """One batch's UID FETCH reply, not read yet: imaplib's data, and the UIDs asked for."""

    uids: list[int]  # highest first
    data: list[Any]


def header_replies(
    client: ImapClient,
    uids: Iterable[int] | Literal["all"],
    *,
    batch: int = HEADER_BATCH,
    first: int | None = None,
) -> Iterator[HeaderReply]:
    """fetch_headers() without the reading, which the caller may do elsewhere (a sync hands
    it to its parsing helper): read_header_reply() gives the batch's HeaderInfo. The first
    batch holds `first` messages (a pipeline starts sooner), the others `batch`."""
    wanted = uids_in(client) if uids == "all" else list(set(uids))
    wanted.sort(reverse=True)
    items = _header_items(client)
    head = first or batch
    for chunk in [wanted[:head], *batches(wanted[head:], batch)] if wanted else []:
        data = uid_command(client, "FETCH", ",".join(map(str, chunk)), f"({' '.join(items)})")
        yield HeaderReply(chunk, data)


def read_header_reply(reply: HeaderReply) -> list[HeaderInfo]:
    """Raises IMAPClient's ProtocolError (or worse) on a reply it cannot read: call it inside
    imap_calls.replies() to have the typed error."""
    return header_infos(reply.uids, reply.data)


def header_infos(uids: Sequence[int], data: list[Any]) -> list[HeaderInfo]:
    """HeaderInfo of `uids`, in that order, from a UID FETCH reply as imaplib returns it; the
    UIDs it lacks are left out, and so is whatever else it holds."""
    by_uid = responses_by_uid(data)
    return [_header_info(uid, by_uid[uid]) for uid in uids if uid in by_uid]


def _header_items(client: ImapClient) -> list[str]:
    items = list(BASE_ITEMS)
    if "CONDSTORE" in (client.enabled or ()):
        items.append("MODSEQ")
    with replies(client, "CAPABILITY"):
        if client.has_capability("X-GM-EXT-1"):
            items.extend(GMAIL_ITEMS)
    return [*items, HEADER_ITEM]


def _header_info(uid: int, item: dict) -> HeaderInfo:
    modseq = item.get(b"MODSEQ")
    labels = item.get(b"X-GM-LABELS") or ()
    return HeaderInfo(
        uid=uid,
        flags=message_flags(item.get(b"FLAGS", ())),
        size=int(item.get(b"RFC822.SIZE") or 0),
        internal_date=item.get(b"INTERNALDATE"),
        modseq=int(modseq[0]) if isinstance(modseq, tuple) and modseq else None,
        headers=_header_bytes(item),
        gmail_message_id=item.get(b"X-GM-MSGID"),
        gmail_thread_id=item.get(b"X-GM-THRID"),
        gmail_labels=tuple(_label(label) for label in labels),
    )


def _header_bytes(item: dict) -> bytes:
    if _HEADER_KEY in item:
        return item[_HEADER_KEY] or b""
    for key, value in item.items():
        if isinstance(key, bytes) and key.upper().startswith(_HEADER_KEY_START):
            return value or b""
    return b""


def _label(label: bytes | str | int) -> str:
    return decode_utf7(label) if isinstance(label, bytes) else text(label)


def fetch_bodies(
    client: ImapClient, uids: Iterable[int], *, batch: int = BODY_BATCH
) -> Iterator[tuple[int, bytes]]:
    """(uid, raw message) in the order of `uids`; messages expunged meanwhile are left out.

    Hold `batch` messages in memory at once: send the big ones to fetch_body_to().
    """
    for chunk in batches(list(dict.fromkeys(uids)), batch):
        data = uid_command(client, "FETCH", ",".join(map(str, chunk)), "(BODY.PEEK[])")
        with replies(client, "UID FETCH (BODY[])"):
            response = responses_by_uid(data)
        del data  # the bodies are in `response` now: hold them once
        for uid in chunk:
            body = response.get(uid, {}).get(b"BODY[]")
            if body is not None:
                yield uid, body


def fetch_body_to(client: ImapClient, uid: int, sink: BinaryIO, *, chunk: int = BODY_CHUNK) -> int:
    """Writes message `uid` to `sink` in partial fetches; returns the bytes written.

    Raises MessageMissing when the message is not (or no longer) there; `sink` may then hold
    a part of it, as after any error here: discard it.
    """
    offset = 0
    while True:
        piece = _body_part(client, uid, offset, chunk)
        sink.write(piece)
        offset += len(piece)
        if len(piece) < chunk:  # RFC 3501: a partial fetch past the end returns what is left
            return offset


def _body_part(client: ImapClient, uid: int, offset: int, length: int) -> bytes:
    with replies(client, "UID FETCH (BODY[]<partial>)"):
        response = client.fetch([uid], [f"BODY.PEEK[]<{offset}.{length}>"])
    if uid not in response:
        raise MessageMissing(uid)
    wanted = f"BODY[]<{offset}>".encode()
    for key, value in response[uid].items():
        if isinstance(key, bytes) and key.upper() == wanted:
            return value or b""  # NIL or "" past the end
    server = client.endpoint
    raise ProtocolFailure(server.host, server.port, f"no BODY[]<{offset}> for message {uid}")
