"""The MIME tree walked the way IMAP numbers it, and each leaf part read safely.

Part ids are IMAP section numbers (RFC 3501 6.4.5): the children of a multipart are "1", "2",
... under their parent's id ("2.1"), and a message that is not multipart has one part, "1".
So an id found here can also be fetched from the server as BODY[<id>]. `message/*` parts are
leaves: an attached message is an attachment, not part of the body.

The walk is iterative (no recursion) and bounded: nesting deeper than MAX_DEPTH and parts
beyond MAX_PARTS are left unread and reported, as are the parser's own defects.
"""

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32, compat32
from io import BytesIO

from mailbox.protocols.mime_headers import header_text
from mailbox.protocols.mime_names import declared_filename

MAX_DEPTH = 30
MAX_PARTS = 500

# A line that looks like a MIME delimiter, for multiparts whose boundary is missing or wrong.
_DELIMITER = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70}?)(?:--)?[ \t]*\r?$", re.MULTILINE)
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_CHARSET = re.compile(r';\s*charset\s*=\s*"?([^";\s]*)', re.IGNORECASE)
_HEADERS_WITH_PARAMS = ("content-type", "content-disposition", "content-id")
_DEFECTS = {
    "NoBoundaryInMultipartDefect": "missing-boundary",
    "StartBoundaryNotFoundDefect": "boundary-not-found",
    "CloseBoundaryNotFoundDefect": "unterminated-multipart",
    "MultipartInvariantViolationDefect": "",  # says again what the two above say
    "FirstHeaderLineIsContinuationDefect": "malformed-header",
    "MisplacedEnvelopeHeaderDefect": "malformed-header",
    "MissingHeaderBodySeparatorDefect": "malformed-header",
    "MalformedHeaderDefect": "malformed-header",
    "InvalidBase64PaddingDefect": "bad-base64",
    "InvalidBase64CharactersDefect": "bad-base64",
    "InvalidBase64LengthDefect": "bad-base64",
    "InvalidMultipartContentTransferEncodingDefect": "bad-transfer-encoding",
}


class _Verbatim(Compat32):
    """Header fields written back as they came: compat32 itself would fold them anew."""

    def fold_binary(self, name: str, value: str) -> bytes:
        return f"{name}: {value}{self.linesep}".encode("utf-8", "surrogateescape")


class _Generator(BytesGenerator):
    """BytesGenerator writes ASCII and raises on anything else, such as an RFC 2231 boundary
    the stdlib decoded to non-ASCII text: write that as UTF-8 instead."""

    def write(self, s: str) -> None:
        self._fp.write(s.encode("utf-8", "surrogateescape"))


@dataclass(frozen=True)
class AttachmentInfo:
    """One attached file (or inline image). `content_id` is without angle brackets.

    `is_inline` is true for images the HTML body shows through `cid:`; they are not
    "attachments" to a person, but are downloadable all the same.
    """

    part_id: str
    filename: str
    content_type: str
    size: int
    content_id: str | None
    is_inline: bool


@dataclass(slots=True)
class Leaf:
    """A part with content. `alternative` is the id of the multipart/alternative it is in."""

    part_id: str
    part: Message
    content_type: str
    disposition: str | None
    filename: str | None  # decoded, not yet made safe
    content_id: str | None
    charset: str | None  # as declared, lowercase
    alternative: str | None

    @property
    def is_body(self) -> bool:
        return (
            self.content_type in ("text/plain", "text/html")
            and self.disposition != "attachment"
            and not self.filename
        )


@dataclass
class Walk:
    leaves: list[Leaf]
    visited: list[tuple[str, Message]]


def walk(root: Message, problems: list[str]) -> Walk:
    """Every leaf part in order, with problems noted for what could not be read."""
    result = Walk([], [])
    stack: list[tuple[Message, str, int, str | None]] = [(root, "", 0, None)]
    while stack:
        part, part_id, depth, alternative = stack.pop()
        if len(result.visited) >= MAX_PARTS:
            problems.append(f"too-many-parts: only the first {MAX_PARTS} parts were read")
            break
        result.visited.append((part_id or "1", part))
        headers = _content_headers(part)
        content_type = _content_type(part, headers)
        children = _children(part, content_type, part_id, problems)
        if children is None:
            result.leaves.append(_leaf(part, part_id or "1", content_type, headers, alternative))
        elif depth >= MAX_DEPTH:
            problems.append(f"too-deep: parts nested below {MAX_DEPTH} levels were not read")
        else:
            if content_type == "multipart/alternative":
                alternative = part_id
            for index in range(len(children), 0, -1):
                child_id = f"{part_id}.{index}" if part_id else str(index)
                stack.append((children[index - 1], child_id, depth + 1, alternative))
    return result


def defect_problems(visited: list[tuple[str, Message]]) -> list[str]:
    """The parser's defects (base64 ones appear once a payload has been decoded)."""
    problems = []
    for part_id, part in visited:
        for defect in part.defects:
            name = type(defect).__name__
            code = _DEFECTS.get(name, name)
            if code:
                problems.append(f"{code}: part {part_id}")
    return problems


def _children(
    part: Message, content_type: str, part_id: str, problems: list[str]
) -> list[Message] | None:
    """A multipart's parts, or None for a leaf. Recovers a missing or wrong boundary."""
    if not content_type.startswith("multipart/"):
        return None
    if part.is_multipart():
        return part.get_payload()
    # Not get_payload(): for text with 8-bit bytes it decodes with the sender's charset
    # parameter (which may be punycode, or crash the stdlib's RFC 2231 code).
    recovered = _guess_boundary(part, part.get_payload(decode=True) or b"")
    if recovered:
        problems.append(f"guessed-boundary: part {part_id or '1'}")
        part.set_payload(recovered)  # so that a second walk (a download) finds the same tree
    return recovered


def _guess_boundary(part: Message, payload: bytes) -> list[Message] | None:
    match = _DELIMITER.search(payload)
    if match is None:
        return None
    head = f"Content-Type: {part.get_content_type()}; boundary=".encode()
    rebuilt = message_from_bytes(
        head + b'"' + match.group(1) + b'"\r\n\r\n' + payload, policy=compat32
    )
    children = rebuilt.get_payload()
    return children if isinstance(children, list) and children else None


def _content_headers(part: Message) -> dict[str, str]:
    """The part's Content-Type, -Disposition and -ID, raw 8-bit bytes decoded in place.

    Decoded in the part itself too, as compat32 would otherwise hand such values back as
    Header objects full of replacement characters.
    """
    found: dict[str, str] = {}
    for name, value in part.raw_items():
        key = name.lower()
        if key in _HEADERS_WITH_PARAMS and key not in found:
            if not value.isascii():
                value = header_text(value)
                part.replace_header(name, value)
            found[key] = value
    return found


def _content_type(part: Message, headers: dict[str, str]) -> str:
    """What part.get_content_type() says, from the headers already read (it is a tenth of
    the walk's time otherwise)."""
    value = headers.get("content-type")
    if value is None:
        return part.get_default_type()  # message/rfc822 inside multipart/digest
    content_type = value.partition(";")[0].strip().lower()
    return content_type if content_type.count("/") == 1 else "text/plain"


def _leaf(
    part: Message,
    part_id: str,
    content_type: str,
    headers: dict[str, str],
    alternative: str | None,
) -> Leaf:
    if content_type.startswith("multipart/"):
        content_type = "text/plain"  # a multipart nobody can split: its text is all there is
    elif not _MIME_TYPE.fullmatch(content_type):
        content_type = "application/octet-stream"  # it will be a download's Content-Type
    disposition = headers.get("content-disposition", "")
    has_name = "name" in (headers.get("content-type", "") + disposition).lower()
    return Leaf(
        part_id=part_id,
        part=part,
        content_type=content_type,
        disposition=disposition.partition(";")[0].strip().lower() or None,
        filename=declared_filename(part) if has_name else None,
        content_id=headers.get("content-id", "").strip().strip("<>").strip() or None,
        charset=_charset(part, headers.get("content-type", "")),
        alternative=alternative,
    )


def _charset(part: Message, content_type: str) -> str | None:
    """The charset parameter: by regex (the stdlib's parameter parser costs a tenth of a
    whole parse), or by the stdlib when RFC 2231 (`charset*=`) is involved."""
    if "*" in content_type:
        try:
            return part.get_content_charset()
        except (TypeError, ValueError):  # mixed RFC 2231 continuations crash the sort
            return None
    match = _CHARSET.search(content_type)
    return match.group(1).lower() if match and match.group(1) else None


def payload_bytes(part: Message, linesep: str = "\r\n") -> bytes:
    """The decoded content of a leaf part; an attached message as its own bytes.

    compat32 has parsed an attached message into a tree, so its bytes are written back: the
    same as in the source, with `linesep` (the source's) ending the header lines.
    """
    if part.is_multipart():  # message/rfc822 and friends
        policy = _Verbatim(linesep=linesep)
        out = BytesIO()
        try:
            for message in part.get_payload():
                _Generator(out, mangle_from_=False, policy=policy).flatten(message)
        except (UnicodeError, LookupError, ValueError, TypeError, RecursionError):
            return b""  # hostile structure the generator cannot write back
        return out.getvalue()
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""
