"""From a header-fields FETCH reply to the values of the envelope rows a message list shows.

All of it is Django-free, so a sync's parsing helper (mime_pool) does it whole: reads the
reply (imap_fetch), parses each message's header fields (mime) and reduces them to the row's
values. The worker that fetched the reply then only writes: on a first sync of a big folder,
reading and parsing in the worker's threads had held its interpreter lock for a fifth of the
envelope stage.
"""

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from mailbox.protocols import mime
from mailbox.protocols.imap_fetch import HeaderInfo, HeaderReply, read_header_reply
from mailbox.protocols.mime_text import search_words

MAX_IDS = 50  # References kept: the nearest ancestors are what threading needs


class EnvelopeFields(NamedTuple):
    """A message's envelope as its row keeps it (lengths within the columns')."""

    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    sender_name: str
    sender_email: str
    recipients: dict[str, list[list[str]]]
    date: dt.datetime | None  # the Date field's: None without one (the row takes arrival's)
    search_text: str  # the words of subject and people: what search finds before the body
    parse_problems: str  # the fields' (those of a header block's shape need the body)


FetchedEnvelope = tuple[HeaderInfo, EnvelopeFields]


def read_envelopes(reply: HeaderReply) -> list[FetchedEnvelope] | None:
    """The reply's messages with their envelopes; None when the reply cannot be read (the
    worker reads it again inside imap_calls.replies(), which raises the typed error)."""
    try:
        infos = read_header_reply(reply)
    except Exception:  # noqa: BLE001 (any failure is the worker's to report)
        return None
    return envelopes_of(infos)


def envelopes_of(infos: Sequence[HeaderInfo]) -> list[FetchedEnvelope]:
    return [(info, envelope_fields(mime.parse_headers(header_block(info)))) for info in infos]


def header_block(info: HeaderInfo) -> bytes:
    """The fetched header fields as a whole header block (ended by its empty line)."""
    return info.headers + b"\r\n"


def envelope_fields(parsed: mime.ParsedMessage) -> EnvelopeFields:
    sender = parsed.sender
    return EnvelopeFields(
        message_id=(parsed.message_id or "")[:998],
        in_reply_to=(parsed.in_reply_to or "")[:998],
        references=list(parsed.references[-MAX_IDS:]),
        subject=parsed.subject,
        sender_name=(sender.name if sender else "")[:300],
        sender_email=(sender.email if sender else "")[:320],
        recipients=_recipients(parsed),
        date=parsed.date,
        search_text=envelope_search_text(parsed),
        parse_problems="\n".join(field_problems(parsed.problems)),
    )


def envelope_search_text(parsed: mime.ParsedMessage) -> str:
    """The words of subject and people (mime_text.search_words): what search finds before the
    body is in."""
    people = (*parsed.from_, *parsed.to, *parsed.cc)
    return search_words(parsed.subject, *(f"{a.name} {a.email}" for a in people))


# Problems of a header block's shape: IMAP's HEADER.FIELDS holds only some fields (maybe none),
# so these are judged on the whole message, with its body.
_SHAPE_PROBLEMS = ("empty", "no-headers", "duplicate-header")


def field_problems(problems: Sequence[str]) -> list[str]:
    return [p for p in problems if p.split(":", 1)[0] not in _SHAPE_PROBLEMS]


def _recipients(parsed: mime.ParsedMessage) -> dict[str, list[list[str]]]:
    fields = {"to": parsed.to, "cc": parsed.cc, "reply_to": parsed.reply_to}
    return {key: [[a.name, a.email] for a in value] for key, value in fields.items() if value}
