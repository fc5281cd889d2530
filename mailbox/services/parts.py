"""A message's parts as files: which may be shown in a browser, and under what name.

Only raster images are ever served with their own type (for `cid:` images in the frame and
previews in the page): everything else, HTML, SVG and XML included, goes out as
application/octet-stream to download, never to render. Names offered for download lose
anything that could break the header or mislead: line breaks, NUL, folders, direction
overrides.
"""

import re
import unicodedata
from urllib.parse import quote

from mailbox import storage
from mailbox.models import Message
from mailbox.protocols.mime import AttachmentInfo, attachment_bytes

RASTER_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif"}
)
_RASTER_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
}
# C0/C1 controls (CR, LF, NUL among them), bidi marks, embeddings, overrides and isolates.
_UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_NAME_LENGTH = 200
FALLBACK_NAME = "attachment"


def raster_type(content_type: str) -> str | None:
    """The type to serve a part as when it is a raster image (SVG is not); else None."""
    kind = content_type.split(";", 1)[0].strip().lower()
    kind = _RASTER_ALIASES.get(kind, kind)
    return kind if kind in RASTER_TYPES else None


def download_name(name: str | None) -> str:
    """A file name safe to put in Content-Disposition and to save under."""
    cleaned = _UNSAFE_IN_NAMES.sub("", unicodedata.normalize("NFC", name or ""))
    cleaned = re.split(r"[/\\]", cleaned)[-1].strip(" .")
    return cleaned[-MAX_NAME_LENGTH:] or FALLBACK_NAME


def content_disposition(name: str | None, *, inline: bool = False) -> str:
    """RFC 6266 with the RFC 5987 form only: every browser reads it, and it needs no quoting
    rules of its own (the name is percent-encoded UTF-8)."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename*=UTF-8''{quote(download_name(name), safe='')}"


def part_content(message: Message, part_id: str) -> tuple[AttachmentInfo, bytes]:
    """The decoded bytes of a part of a stored message; KeyError when there is none."""
    if not message.raw_path:
        raise KeyError(part_id)
    return attachment_bytes(storage.read_raw(message.raw_path), part_id)
