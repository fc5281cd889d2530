"""A header block's fields, read the way the standard compat32 header parser reads them.

The first sync reads 10,000 header blocks (IMAP's HEADER.FIELDS) into envelopes in a helper
process, and `email`'s feed parser took 1.0 of its 1.5 s: it is built for whole messages fed
in pieces. A well-formed block is a few lines split at CRLF, so `fields()` reads those itself
and gives the same (name, value) pairs `Message.raw_items()` would; anything else (bare CR or
LF, a mbox "From " line, a line that is neither a field nor a continuation) it declines, and
the caller uses the standard parser, so unusual blocks keep its exact behaviour and defects.
"""

import re

# A field name as the standard parser's header-line pattern has it: printable ASCII but ":".
_FIELD = re.compile(r"[\041-\071\073-\176]+:")


def fields(raw: bytes) -> list[tuple[str, str]] | None:
    """(name, value) of each field, values unfolded as compat32 keeps them; None: not simple."""
    text = raw.decode("ascii", "surrogateescape")  # as BytesHeaderParser decodes it
    found: list[tuple[str, str]] = []
    name, value = "", [""]
    for line in text.split("\r\n"):
        if "\r" in line or "\n" in line:
            return None
        if not line:
            break  # the empty line that ends the block (or the end of the text)
        if line[0] in " \t":
            if not name:
                return None
            value.append(line)
            continue
        start = _FIELD.match(line)  # a mbox "From " line does not match either
        if start is None:
            return None
        if name:
            found.append((name, "\r\n".join(value).rstrip("\r\n")))
        name, value = line[: start.end() - 1], [line[start.end() :].lstrip(" \t")]
    if name:
        found.append((name, "\r\n".join(value).rstrip("\r\n")))
    return found
