"""Raw message bytes in, a `ParsedMessage` out: what the message list, the reading pane and
search need from a message, read with the standard `email` package and never raising.

Why compat32: on realistic mail, `policy=compat32` parses four to seven times faster than
`policy=default` (benchmarks/mime_parse.py), and `get_content()` of the default policy raises on
charsets Python does not know (`x-unknown-8bit`). So the parser only splits the bytes into
parts; headers are decoded here (mime_headers), payloads with charset fallbacks
(mime_charsets), and the tree is walked as IMAP numbers it (mime_parts).

A message that cannot be read fully still gives a ParsedMessage with what could be read, and
`problems` says what went wrong: short strings, each "code: detail", where code is one of
  charset-fallback, bad-date, no-date, duplicate-header, no-headers, empty, unreadable,
  too-deep, too-many-parts, truncated, guessed-boundary, and the parser's defects
  (missing-boundary, boundary-not-found, unterminated-multipart, malformed-header,
  bad-base64, bad-transfer-encoding, or the defect's class name).

Where the bytes live: nothing here keeps them. The caller stores the raw message and passes
it back to `attachment_bytes()` or `inline_part()` when a person downloads an attachment or
the reading pane shows a `cid:` image; a part is found again by its IMAP section number.
"""

import datetime as dt
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any
from urllib.parse import unquote

from mailbox.protocols import mime_boundaries, mime_header_block
from mailbox.protocols.mime_charsets import decode_bytes
from mailbox.protocols.mime_headers import (
    Address,
    decode_header,
    parse_addresses,
    parse_date,
    parse_ids,
)
from mailbox.protocols.mime_names import attached_subject, safe_filename
from mailbox.protocols.mime_parts import (
    AttachmentInfo,
    Leaf,
    defect_problems,
    payload_bytes,
    walk,
)
from mailbox.protocols.mime_text import snippet

__all__ = [
    "Address",
    "AttachmentInfo",
    "ParsedBody",
    "Parsed",
    "ParsedMessage",
    "attachment_bytes",
    "inline_part",
    "parse_body",
    "parse_headers",
    "parse_message",
]

MAX_BODY_CHARS = 2_000_000  # per body; the raw message keeps the rest for "view source"
MAX_SUBJECT_CHARS = 1000
# Multipart containers a message may have: far more than mail has (the walk reads 30 levels),
# far fewer than the recursion limit the stdlib parser would meet nesting them.
MAX_BOUNDARIES = 200
_SINGLE_HEADERS = ("from", "sender", "subject", "date", "message-id")
_LIST_HEADERS = ("to", "cc", "bcc", "reply-to", "in-reply-to", "references")
_WANTED_HEADERS = frozenset(_SINGLE_HEADERS + _LIST_HEADERS)
mime_boundaries.install()  # a fifth of the parser's time went into compiling boundary patterns


@dataclass(frozen=True)
class ParsedMessage:
    """What a person sees of a message. Message ids keep their angle brackets: "<id@host>"."""

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    date: dt.datetime | None  # timezone-aware
    sender: Address | None  # the (first) From, else Sender
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    text: str  # the text/plain parts, "" when there are none
    html: str | None  # unsanitised: never show it before the sanitiser has seen it
    attachments: tuple[AttachmentInfo, ...]
    has_attachments: bool  # attachments other than inline cid: images
    snippet: str
    size: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ParsedBody:
    """A message's content without its header fields decoded: what a sync's bodies stage needs
    when the envelope (the same header fields, parsed from IMAP's HEADER.FIELDS) is stored."""

    text: str
    html: str | None
    attachments: tuple[AttachmentInfo, ...]
    has_attachments: bool
    snippet: str
    size: int
    problems: tuple[str, ...]  # of the body, and of the header block's shape (see parse_body)


Parsed = ParsedMessage | ParsedBody  # what a parse gives: the whole message, or its body


@dataclass
class _Body:
    text: str = ""
    html: str | None = None
    attachments: list[AttachmentInfo] = field(default_factory=list)
    leaves: dict[str, Leaf] = field(default_factory=dict)
    linesep: str = "\r\n"  # the source's, for writing attached messages back


def parse_message(raw: bytes) -> ParsedMessage:
    """Everything a person sees of `raw`. Never raises: see `problems` for what went wrong."""
    problems: list[str] = []
    message, body = _parse(raw, problems)
    return _assemble(message, body, raw, problems)


def _parse(raw: bytes, problems: list[str]) -> tuple[Message, "_Body"]:
    if _too_nested(raw):
        problems.append(f"too-deep: over {MAX_BOUNDARIES} multipart boundaries, headers only")
        return _headers_only(raw), _Body()
    try:
        message = message_from_bytes(raw, policy=compat32)
        return message, _read_body(message, problems, _linesep(raw))
    except Exception as error:  # never stop a sync
        problems.append(f"unreadable: {type(error).__name__}, headers only")
        return _headers_only(raw), _Body()


def _too_nested(raw: bytes) -> bool:
    """Whether `raw` could nest multiparts deeper than the stdlib parser, which recurses once
    per level, can follow at any caller's stack depth. Checked before parsing, so the outcome
    never depends on where the parse runs (a sync's helper or a Celery task). Counting the
    word "boundary" (in 1 MB slices, lowercased) is a bound: each level needs its own."""
    step = 1024 * 1024
    count = 0
    for start in range(0, len(raw), step):
        count += raw[start : start + step].lower().count(b"boundary")
        if count > MAX_BOUNDARIES:
            return True
    return False


def parse_body(raw: bytes) -> ParsedBody:
    """parse_message() without decoding the header fields (a third of its time). Its problems
    are the body's and the header block's shape (empty, no-headers, duplicate-header); those of
    a field's value (bad-date, a broken address) come with the fields, from parse_headers()."""
    problems: list[str] = []
    message, body = _parse(raw, problems)
    _read_headers(message, problems)
    _shape_problems(message, raw, problems)
    return ParsedBody(**_content(body, raw), problems=tuple(dict.fromkeys(problems)))


def parse_headers(raw: bytes) -> ParsedMessage:
    """The envelope of a header block (IMAP's HEADER.FIELDS): no body is looked for, so the
    first sync's listing skips the body parser's work (a multipart boundary regex each)."""
    problems: list[str] = []
    return _assemble(_header_block(raw), _Body(), raw, problems)


def _assemble(message: Message, body: "_Body", raw: bytes, problems: list[str]) -> ParsedMessage:
    headers = _read_headers(message, problems)
    _shape_problems(message, raw, problems)
    from_ = parse_addresses(headers.get("from", []), problems)
    senders = from_ or parse_addresses(headers.get("sender", [])[:1], problems)
    return ParsedMessage(
        message_id=_first_id(headers, "message-id"),
        in_reply_to=_first_id(headers, "in-reply-to"),
        references=parse_ids(" ".join(headers.get("references", []))),
        subject=_subject(headers, problems),
        date=parse_date(_first(headers, "date"), problems),
        sender=senders[0] if senders else None,
        from_=from_,
        to=parse_addresses(headers.get("to", []), problems),
        cc=parse_addresses(headers.get("cc", []), problems),
        bcc=parse_addresses(headers.get("bcc", []), problems),
        reply_to=parse_addresses(headers.get("reply-to", []), problems),
        **_content(body, raw),
        problems=tuple(dict.fromkeys(problems)),  # last: the fields above add to them
    )


def _content(body: "_Body", raw: bytes) -> dict[str, Any]:
    """The fields ParsedMessage and ParsedBody share, but their problems."""
    return {
        "text": body.text,
        "html": body.html,
        "attachments": tuple(body.attachments),
        "has_attachments": any(not info.is_inline for info in body.attachments),
        "snippet": snippet(body.text, body.html),
        "size": len(raw),
    }


def _shape_problems(message: Message, raw: bytes, problems: list[str]) -> None:
    if not raw.strip():
        problems.append("empty: the message has no content")
    elif len(message) == 0:  # the number of header fields
        problems.append("no-headers: nothing that looks like a mail header")


def attachment_bytes(raw: bytes, part_id: str) -> tuple[AttachmentInfo, bytes]:
    """The decoded content of the part `part_id` ("1.2"), for download. KeyError if none."""
    body = _read_raw(raw, part_id)
    leaf = body.leaves.get(part_id)
    if leaf is None:
        raise KeyError(part_id)
    return _info_for(body, leaf), payload_bytes(leaf.part, body.linesep)


def inline_part(raw: bytes, content_id: str) -> tuple[AttachmentInfo, bytes]:
    """The part a `cid:` URL names ("cid:logo%40x", "<logo@x>", "logo@x"). KeyError if none."""
    wanted = unquote(content_id.strip().removeprefix("cid:")).strip("<> ")
    body = _read_raw(raw, content_id)
    matches = [leaf for leaf in body.leaves.values() if leaf.content_id == wanted] or [
        leaf
        for leaf in body.leaves.values()
        if leaf.content_id and leaf.content_id.casefold() == wanted.casefold()
    ]
    if not wanted or not matches:
        raise KeyError(content_id)
    return _info_for(body, matches[0]), payload_bytes(matches[0].part, body.linesep)


def _read_raw(raw: bytes, key: str) -> _Body:
    try:
        return _read_body(message_from_bytes(raw, policy=compat32), [], _linesep(raw))
    except Exception as error:  # parse_message found no parts in it either
        raise KeyError(key) from error


def _linesep(raw: bytes) -> str:
    return "\r\n" if b"\r\n" in raw else "\n"


def _read_body(message: Message, problems: list[str], linesep: str) -> _Body:
    tree = walk(message, problems)
    body = _Body(leaves={leaf.part_id: leaf for leaf in tree.leaves}, linesep=linesep)
    chosen = _chosen_bodies(tree.leaves)
    texts = [_text_of(leaf, problems) for leaf in chosen if leaf.content_type == "text/plain"]
    htmls = [_text_of(leaf, problems) for leaf in chosen if leaf.content_type == "text/html"]
    body.text = _limit("\n".join(texts), "text", problems)
    body.html = _limit("\n".join(htmls), "html", problems) if htmls else None
    html_lower = body.html.lower() if body.html else ""
    for leaf in tree.leaves:
        if not leaf.is_body:
            body.attachments.append(_attachment(leaf, html_lower, linesep))
    problems.extend(defect_problems(tree.visited))  # after decoding: base64 defects show then
    return body


def _chosen_bodies(leaves: list[Leaf]) -> list[Leaf]:
    """Body parts in order; of a multipart/alternative only its last text and last HTML."""
    last = {(leaf.alternative, leaf.content_type): leaf for leaf in leaves if leaf.is_body}
    return [
        leaf
        for leaf in leaves
        if leaf.is_body
        and (leaf.alternative is None or last[(leaf.alternative, leaf.content_type)] is leaf)
    ]


def _text_of(leaf: Leaf, problems: list[str]) -> str:
    text, fallback = decode_bytes(payload_bytes(leaf.part), leaf.charset)
    if fallback:
        problems.append(f"charset-fallback: part {leaf.part_id} {fallback}")
    return text.replace("\r\n", "\n").replace("\x00", "")


def _limit(text: str, what: str, problems: list[str]) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    problems.append(f"truncated: the {what} body was cut at {MAX_BODY_CHARS} characters")
    return text[:MAX_BODY_CHARS]


def _attachment(leaf: Leaf, html_lower: str, linesep: str) -> AttachmentInfo:
    name = leaf.filename
    if not name and leaf.content_type == "message/rfc822":
        name = f"{attached_subject(leaf.part) or 'message'}.eml"
    # Shown by the HTML, so not an attachment to a person, whatever its disposition says
    # (Outlook and Python's own add_related() mark such images "attachment").
    shown_inline = bool(leaf.content_id) and f"cid:{leaf.content_id}".lower() in html_lower
    return AttachmentInfo(
        part_id=leaf.part_id,
        filename=safe_filename(name, leaf.part_id, leaf.content_type),
        content_type=leaf.content_type,
        size=len(payload_bytes(leaf.part, linesep)),
        content_id=leaf.content_id,
        is_inline=shown_inline,
    )


def _info_for(body: _Body, leaf: Leaf) -> AttachmentInfo:
    listed = [info for info in body.attachments if info.part_id == leaf.part_id]
    # A body part asked for by id (to download the HTML, say) is described like a file.
    return listed[0] if listed else _attachment(leaf, "", body.linesep)


def _header_block(raw: bytes) -> Message:
    """A header block's fields: read directly when the block is simple (mime_header_block),
    else by the standard parser."""
    simple = mime_header_block.fields(raw)
    if simple is None:
        return _headers_only(raw)
    message = Message(policy=compat32)
    for name, value in simple:
        message.set_raw(name, value)
    return message


def _headers_only(raw: bytes) -> Message:
    try:
        return BytesHeaderParser(policy=compat32).parsebytes(raw)
    except Exception:  # nothing readable at all: an empty message still has a place
        return Message(policy=compat32)


def _read_headers(message: Message, problems: list[str]) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key in _WANTED_HEADERS:
            headers.setdefault(key, []).append(value)
    for name in _SINGLE_HEADERS:
        if len(headers.get(name, ())) > 1:
            problems.append(f"duplicate-header: {len(headers[name])} {name.title()} headers")
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _first_id(headers: dict[str, list[str]], name: str) -> str | None:
    ids = parse_ids(_first(headers, name))
    return ids[0] if ids else None


def _subject(headers: dict[str, list[str]], problems: list[str]) -> str:
    subject = decode_header(_first(headers, "subject") or "", problems)
    if len(subject) > MAX_SUBJECT_CHARS:
        problems.append(f"truncated: the subject was cut at {MAX_SUBJECT_CHARS} characters")
        subject = subject[:MAX_SUBJECT_CHARS]
    return subject
