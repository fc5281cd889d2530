"""URL checks for the few attributes that may hold one (a href, img src).

Values arrive entity-decoded by the HTML parser (`jav&#x09;ascript:` is already
`jav<TAB>ascript:`). Each is then normalised the way a browser's URL parser does it (leading
and trailing C0 controls and spaces trimmed, tabs and newlines removed anywhere) before its
scheme is compared, case-insensitively, with a short allowlist. The normalised value is what
gets written out, so the browser is given exactly the URL that was checked.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_DATA_IMAGE = re.compile(
    r"data:image/(?:png|gif|jpeg|jpg|webp);base64,[A-Za-z0-9+/=\x20\x0c]*\Z", re.I
)
MAX_DATA_URL_CHARS = 512 * 1024  # an inline image bigger than this is dropped, not shown


class ImageKind(StrEnum):
    CID = "cid"  # a part of this message: value is the Content-ID
    INLINE = "inline"  # a small data: image: value is the URL
    REMOTE = "remote"  # http(s): loads from the sender's side only after "Show images"


@dataclass(frozen=True)
class ImageSource:
    kind: ImageKind
    value: str


def normalize_url(value: str) -> str:
    return _TAB_OR_NEWLINE.sub("", value).strip(_C0_AND_SPACE)


def scheme_of(url: str) -> str | None:
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


def link_href(value: str) -> str | None:
    """The href to keep for a link, or None: only web pages and mail addresses."""
    url = _absolute(normalize_url(value))
    scheme = scheme_of(url)
    if scheme == "mailto":
        return url
    if scheme in ("http", "https") and _has_host(url):
        return url
    return None


def image_source(value: str) -> ImageSource | None:
    """What an img src points at, or None when it may not be shown at all."""
    url = _absolute(normalize_url(value))
    scheme = scheme_of(url)
    if scheme == "cid":
        content_id = unquote(url[4:]).strip().strip("<>")
        return ImageSource(ImageKind.CID, content_id) if content_id else None
    if scheme in ("http", "https") and _has_host(url):
        return ImageSource(ImageKind.REMOTE, url)
    if scheme == "data" and len(url) <= MAX_DATA_URL_CHARS and _DATA_IMAGE.match(url):
        return ImageSource(ImageKind.INLINE, url)
    return None


def _absolute(url: str) -> str:
    # Scheme-relative URLs would resolve against wherever the mail is shown: make them https.
    return "https:" + url if url.startswith("//") else url


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # malformed, e.g. an unclosed IPv6 bracket
        return False
