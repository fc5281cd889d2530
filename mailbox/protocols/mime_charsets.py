"""Bytes to text for mail, where the declared charset is often unknown, missing or wrong.

`decode_bytes` never raises. The order follows what readers of real mail see:
- an unknown or missing charset is read as UTF-8, then windows-1252 with replacement characters;
- ASCII and Latin-1 labels are read as windows-1252, as browsers do (WHATWG Encoding), except
  that bytes which are valid UTF-8 are read as UTF-8: mail programs label UTF-8 text "us-ascii"
  or "iso-8859-1" often, and genuine Latin-1 text is almost never valid UTF-8;
- a few labels are read as the superset that senders actually use (gb2312 → gb18030, ...).
"""

import codecs
import re
from functools import lru_cache

# Labels Python does not know, or whose superset is what senders really produce.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "x-mac-roman": "mac-roman",
}
# Python codecs that are not character sets, or that are slow on hostile input (punycode is
# quadratic): never let a header choose them.
_REFUSED = {"punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined", "charmap"}
# Codecs whose output is not a superset of ASCII, so the all-ASCII fast path would be wrong.
_NOT_ASCII_COMPATIBLE = ("utf-7", "iso2022", "hz", "utf-16", "utf-32")
_WESTERN = {"ascii", "iso8859-1", "cp1252", "iso8859-15"}
_SURROGATES = re.compile(r"[\ud800-\udfff]")  # UTF-7 decodes "+2D0-" to one; databases refuse them
_FINAL = "cp1252"  # decodes every byte (with errors="replace"); the usual charset of old mail


@lru_cache(maxsize=256)
def codec_for(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or refused."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_ALIASES.get(label, label)).name
        b"mail".decode(name, "replace")  # LookupError for bytes-to-bytes codecs (base64, ...)
    except (LookupError, ValueError):
        return None
    return None if name.replace("_", "-") in _REFUSED else name


def decode_bytes(data: bytes, label: str | None) -> tuple[str, str | None]:
    """`data` as text, and a note saying which charset was used if not the declared one."""
    codec = codec_for(label)
    if codec is None or codec in _WESTERN:
        return _decode_western(data, label, codec)
    if data.isascii() and not codec.startswith(_NOT_ASCII_COMPATIBLE):
        return data.decode("ascii"), None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return _decode_fallback(data, f"{_shown(label)} did not fit", try_utf8=codec != "utf-8")
    return (text if codec == "utf-8" else _SURROGATES.sub("\ufffd", text)), None


def _decode_western(data: bytes, label: str | None, codec: str | None) -> tuple[str, str | None]:
    if data.isascii():
        return data.decode("ascii"), None
    if codec is None:
        reason = f"unknown charset {_shown(label)}" if label else "no charset"
        return _decode_fallback(data, reason)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return text, f"{_shown(label)} declared, read as utf-8"
    if codec == "ascii":
        return data.decode(_FINAL, errors="replace"), f"{_shown(label)} declared, read as {_FINAL}"
    if codec == "iso8859-15":  # not a subset of cp1252: "€" is 0xA4 here
        return data.decode(codec), None
    try:
        return data.decode("cp1252"), None
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined: Latin-1 has them
        return data.decode("iso8859-1"), None


def _decode_fallback(data: bytes, reason: str, try_utf8: bool = True) -> tuple[str, str]:
    if try_utf8:
        try:
            return data.decode("utf-8"), f"{reason}, read as utf-8"
        except UnicodeDecodeError:
            pass
    return data.decode(_FINAL, errors="replace"), f"{reason}, read as {_FINAL}"


def _shown(label: str | None) -> str:
    return repr((label or "")[:40])  # a label is the sender's words: keep notes short
