"""Header values as people read them: RFC 2047 words, raw 8-bit bytes, messy ids and dates.

The compat32 parser hands over header values unprocessed: folded, RFC 2047 encoded, and with
any raw 8-bit bytes as surrogate escapes. These functions turn them into clean text and never
raise. Each takes a `problems` list and appends a short "code: detail" note when it had to
guess, so the caller can mark the message as not fully read.
"""

import binascii
import datetime as dt
import re
from dataclasses import dataclass
from email.utils import getaddresses, parsedate_to_datetime

from mailbox.protocols.mime_charsets import decode_bytes
from mailbox.protocols.mime_text import collapse

# =?charset?Q|B?text?=; charset may carry an RFC 2231 language (utf-8*en). Spaces inside the
# text are out of spec but sent by some programs, so only "?" ends it.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NOT_SIMPLE = re.compile(r'["()\\;:\[]')
_SIMPLE_ADDRESS = re.compile(
    r"\s*(?:([^<>@]*?)\s*<([^<>\s@]+@[^<>\s@]+)>|([^<>\s@]+@[^<>\s@]+))\s*"
)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
_MESSAGE_ID = re.compile(r"<([^<>\s\x00-\x1f\x7f]+)>")
_BARE_ID = re.compile(r"[^<>\s\x00-\x1f\x7f]+@[^<>\s\x00-\x1f\x7f]+")
MAX_IDS = 100  # References can grow without bound on long threads; keep the root and the tail
MAX_ID_LENGTH = 998


@dataclass(frozen=True)
class Address:
    """A mailbox as shown to a person: the display name (may be "") and the address."""

    name: str
    email: str


def header_text(value: str) -> str:
    """A raw header value as text: raw 8-bit bytes decoded (UTF-8, else windows-1252)."""
    if value.isascii():
        return value
    text, _ = decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8")
    return text


def unfold(value: str) -> str:
    return _FOLD.sub("", value) if "\n" in value else value


def decode_words(value: str, problems: list[str] | None = None) -> str:
    """RFC 2047 encoded words decoded; the whitespace between two adjacent words dropped.

    Adjacent words in the same charset are joined before decoding, since senders split
    multi-byte characters across them.
    """
    if "=?" not in value:
        return value
    pieces: list[str] = []
    pending, pending_charset = b"", ""
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        charset = match.group(1).split("*")[0].lower()
        joins = position > 0 and (not between or between.isspace())
        if not joins or charset != pending_charset:
            pieces.append(_decode_pending(pending, pending_charset, problems))
            pending = b""
        if not joins:
            pieces.append(between)
        pending += _word_bytes(match.group(2), match.group(3))
        pending_charset = charset
        position = match.end()
    pieces.append(_decode_pending(pending, pending_charset, problems))
    pieces.append(value[position:])
    return "".join(pieces)


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "Qq":
        return binascii.a2b_qp(text.encode("utf-8", "surrogateescape"), header=True)
    data = _NOT_BASE64.sub("", text)  # stray characters and broken padding
    if len(data) % 4 == 1:
        data = data[:-1]  # a lone sextet cannot make a byte
    return binascii.a2b_base64(data + "=" * (-len(data) % 4))


def _decode_pending(data: bytes, charset: str, problems: list[str] | None) -> str:
    if not data:
        return ""
    text, fallback = decode_bytes(data, charset)
    if fallback and problems is not None:
        problems.append(f"charset-fallback: header {fallback}")
    return text


def decode_header(value: str, problems: list[str] | None = None) -> str:
    """A free-text header (Subject, ...) ready to show: decoded, unfolded, one line."""
    return collapse(decode_words(unfold(header_text(value)), problems))


def parse_addresses(values: list[str], problems: list[str] | None = None) -> tuple[Address, ...]:
    """Every mailbox in these header values (To may appear twice); groups flattened."""
    if not values:
        return ()
    raw = [unfold(header_text(value)) for value in values]
    found: list[Address] = []
    for name, email in _simple_addresses(raw) or _getaddresses(raw):
        # Split first, then decode: a decoded name may contain commas and angle brackets.
        address = Address(collapse(decode_words(name, problems)), collapse(email))
        if address.email or address.name:
            found.append(address)
    return tuple(found)


def _getaddresses(values: list[str]) -> list[tuple[str, str]]:
    try:
        return getaddresses(values)
    except (IndexError, ValueError, TypeError):  # the stdlib's parser has had such bugs
        return []


def _simple_addresses(values: list[str]) -> list[tuple[str, str]] | None:
    """`Name <a@b>, c@d` without quotes, comments or groups, split by a regex (getaddresses()
    took a fifth of parse_message()'s time); None sends anything else to getaddresses()."""
    if any(_NOT_SIMPLE.search(value) for value in values):
        return None
    pairs = []
    for value in values:
        for item in value.split(","):
            match = _SIMPLE_ADDRESS.fullmatch(item)
            if match is None:
                return None
            name, email = match.group(1, 2) if match.group(2) else ("", match.group(3))
            pairs.append((name, email))
    return pairs


def parse_ids(value: str | None) -> tuple[str, ...]:
    """Message ids in `value` as "<id>", in order, without repeats; comments ignored.

    Ids without angle brackets (some old programs) are accepted when nothing else is there.
    """
    if not value:
        return ()
    value = unfold(header_text(value))
    ids = _MESSAGE_ID.findall(value) or _BARE_ID.findall(value)
    unique = list(dict.fromkeys(f"<{i.strip('<>')}>" for i in ids if len(i) <= MAX_ID_LENGTH))
    if len(unique) > MAX_IDS:
        unique = unique[:1] + unique[-(MAX_IDS - 1) :]
    return tuple(unique)


def parse_date(value: str | None, problems: list[str]) -> dt.datetime | None:
    """A timezone-aware datetime (UTC when the zone is unknown), or None with a problem."""
    if value is None:
        problems.append("no-date: the message has no Date header")
        return None
    text = collapse(unfold(header_text(value)))
    try:
        date = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append(f"bad-date: {text[:80]!r}")
        return None
    return date if date.tzinfo else date.replace(tzinfo=dt.UTC)
