"""A quick reader for the FETCH replies the sync asks for, beside IMAPClient's general one.

IMAPClient's lexer reads a reply a character at a time in Python: on a 10,000-message header
fetch that was a third of the first sync's envelope stage. The replies the sync asks for are
plain lists of item names and values: numbers, atoms, quoted strings, NIL, literals, and
lists of those (FLAGS, MODSEQ, X-GM-LABELS). `fetch_responses()` reads that shape with one
regular expression over the text between imaplib's literals and gives the values IMAPClient's
`parse_fetch_response()` would. On anything else (ENVELOPE or BODYSTRUCTURE, which IMAPClient
converts into objects, a reply it cannot follow) it returns None, and the caller hands the
reply to IMAPClient: this is a shortcut for the common case, never a second opinion.
"""

import datetime as dt
import re
from typing import Any

# imaplib strips "* " and "FETCH": a response starts "<seq> (".
_START = re.compile(rb"(\d+) \(")
_TOKEN = re.compile(
    rb" *(?:"
    rb"(?P<open>\()|(?P<close>\))"
    rb'|"(?P<quoted>(?:[^"\\\r\n]|\\["\\])*)"'
    rb"|\{(?P<literal>\d+)\}\Z"
    # RFC 3501's atom-char has no controls; IMAPClient splits a list at a tab, say
    rb"|(?P<atom>[^ ()\"{}\[\]%*\x00-\x1f\x7f]+(?:\[[^\]\r\n]*\](?:<\d+>)?)?)"
    rb")"
)
_TRAILING_SPACE = re.compile(rb" *\Z")
_CONVERTED_BY_IMAPCLIENT = frozenset({b"ENVELOPE", b"BODY", b"BODYSTRUCTURE"})
_INTERNALDATE = re.compile(
    rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\Z"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        (b"jan", b"feb", b"mar", b"apr", b"may", b"jun")
        + (b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"),
        start=1,
    )
}

Item = bytes | tuple[bytes, bytes]


class _Unexpected(Exception):
    """A reply this reader does not follow: IMAPClient's parser takes it."""


def fetch_responses(data: list[Item]) -> dict[int, dict[bytes, Any]] | None:
    """imaplib's FETCH data as IMAPClient's parse_fetch_response(normalise_times=False,
    uid_is_key=False) gives it — {seq: {b"SEQ": seq, b"UID": 7, b"FLAGS": (b"\\Seen",), ...}},
    responses for one sequence number merged — or None when the reply is not the plain kind."""
    try:
        return _read(data)
    except _Unexpected:
        return None


def _read(data: list[Item]) -> dict[int, dict[bytes, Any]]:
    responses: dict[int, dict[bytes, Any]] = {}
    stack: list[list[Any]] = []  # the lists open in the current response, outermost first
    seq = 0
    for item in data:
        text, literal = item if isinstance(item, tuple) else (item, None)
        if not isinstance(text, bytes):
            raise _Unexpected
        position = 0
        if not stack:
            start = _START.match(text)
            if start is None:
                raise _Unexpected
            seq, position, stack = int(start[1]), start.end(), [[]]
        position, finished = _tokens(text, position, stack, literal)
        if finished is not None:  # nothing may follow the response's list in this item
            if _TRAILING_SPACE.match(text, position) is None:
                raise _Unexpected
            responses.setdefault(seq, {b"SEQ": seq}).update(_attributes(finished))
    if stack:
        raise _Unexpected  # the reply ended inside a response
    return responses


def _tokens(
    text: bytes, position: int, stack: list[list[Any]], literal: bytes | None
) -> tuple[int, list[Any] | None]:
    """Reads tokens of `text` from `position` into the open lists. Returns where it stopped
    (the end, or just after the response's closing parenthesis) and the response's values
    when its list closed."""
    end, finished = len(text), None
    while position < end and finished is None:
        token = _TOKEN.match(text, position)
        if token is None or token.end() == position:
            if _TRAILING_SPACE.match(text, position):
                break
            raise _Unexpected
        position = token.end()
        kind = token.lastgroup
        if kind == "open":
            stack.append([])
        elif kind == "close":
            values = stack.pop()
            if stack:
                stack[-1].append(tuple(values))
            else:
                finished = values
        elif kind == "quoted":
            stack[-1].append(token["quoted"].replace(b'\\"', b'"').replace(b"\\\\", b"\\"))
        elif kind == "literal":
            if literal is None or len(literal) != int(token["literal"]):
                raise _Unexpected
            stack[-1].append(literal)
            literal = None
        else:
            stack[-1].append(_atom(token["atom"]))
    if literal is not None:
        raise _Unexpected  # imaplib gave a literal this text did not announce
    return position, finished


def _atom(atom: bytes) -> Any:
    """As IMAPClient reads an atom: a number without leading zeros, exactly NIL, or bytes."""
    if atom.isdigit() and (atom == b"0" or not atom.startswith(b"0")):
        return int(atom)
    if atom == b"NIL":
        return None
    return atom


def _attributes(values: list[Any]) -> dict[bytes, Any]:
    if len(values) % 2:
        raise _Unexpected
    attributes: dict[bytes, Any] = {}
    for index in range(0, len(values), 2):
        name, value = values[index], values[index + 1]
        if not isinstance(name, bytes):
            raise _Unexpected
        name = name.upper()
        if name in _CONVERTED_BY_IMAPCLIENT:
            raise _Unexpected
        if name == b"UID" and not isinstance(value, int):
            raise _Unexpected
        if name == b"INTERNALDATE" and value is not None:
            value = internal_date(value)
            if value is None:  # not RFC 3501's form: IMAPClient's lenient reading decides
                raise _Unexpected
        attributes[name] = value
    return attributes


def internal_date(value: object) -> dt.datetime | None:
    """RFC 3501's date-time ("17-Jul-1996 02:44:25 -0700") as an aware datetime in its own
    offset; None when it is not exactly that form."""
    if not isinstance(value, bytes):
        return None
    match = _INTERNALDATE.match(value)
    month = _MONTHS.get(match[2].lower()) if match else None
    if match is None or month is None:
        return None
    day, year, hour, minute, second = (int(match[i]) for i in (1, 3, 4, 5, 6))
    offset = dt.timedelta(hours=int(match[8]), minutes=int(match[9]))
    try:
        return dt.datetime(
            year, month, day, hour, minute, second, tzinfo=_zone(match[7] == b"-", offset)
        )
    except ValueError:
        return None


_ZONES: dict[tuple[bool, dt.timedelta], dt.timezone] = {}


def _zone(negative: bool, offset: dt.timedelta) -> dt.timezone:
    zone = _ZONES.get((negative, offset))
    if zone is None:
        zone = _ZONES[(negative, offset)] = dt.timezone(-offset if negative else offset)
    return zone
