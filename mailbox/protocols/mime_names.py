"""What to call a part: its declared file name decoded, and a name safe to download under.

Names come from RFC 2231 parameters (with their charset), RFC 2047 words (not allowed there,
sent by Outlook and Gmail all the same), or raw 8-bit bytes. Whatever they say, the name
offered for download has no folders, no control or bidi characters and a bounded length.
"""

import mimetypes
import re
import unicodedata
from email.message import Message
from email.utils import unquote

from mailbox.protocols.mime_charsets import decode_bytes
from mailbox.protocols.mime_headers import decode_header, decode_words

_TYPES = mimetypes.MimeTypes()  # the built-in table only: the same names on every machine
_MORE_EXTENSIONS = {"text/calendar": ".ics", "application/ms-tnef": ".dat"}
_UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_RESERVED_IN_NAMES = re.compile(r'[<>:"|?*]')
MAX_NAME_LENGTH = 200


def declared_filename(part: Message) -> str | None:
    """The decoded file name: RFC 2231 (with its charset), RFC 2047 words, or plain."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, None, header)
        except (TypeError, ValueError):  # mixed RFC 2231 continuations crash the sort
            continue
        if isinstance(value, tuple):
            charset, _, text = value
            value, _ = decode_bytes(unquote(text).encode("latin-1", "replace"), charset)
        if value:
            return decode_words(unquote(value)).strip() or None
    return None


def safe_filename(name: str | None, part_id: str, content_type: str) -> str:
    """A name that is safe to offer for download: no folders, no control or bidi characters."""
    name = unicodedata.normalize("NFC", _UNSAFE_IN_NAMES.sub("", name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _RESERVED_IN_NAMES.sub("_", name).strip(" .")
    if len(name) > MAX_NAME_LENGTH:  # cut the stem, keep a real-looking extension
        stem, dot, extension = name.rpartition(".")
        kept = dot + extension if dot and len(extension) <= 16 else ""
        name = (stem if kept else name)[: MAX_NAME_LENGTH - len(kept)] + kept
    if name:
        return name
    extension = (
        _TYPES.guess_extension(content_type, strict=False)
        or _MORE_EXTENSIONS.get(content_type)
        or ".bin"
    )
    return f"part-{part_id}{extension}"


def attached_subject(part: Message) -> str | None:
    """The subject of an attached message/rfc822, to name the file after it."""
    payload = part.get_payload() if part.is_multipart() else None
    if payload:
        for name, value in payload[0].raw_items():
            if name.lower() == "subject":
                return decode_header(value)
    return None
