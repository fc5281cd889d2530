"""The search box's language, parsed into a SearchQuery (a pure function: no database here).

    from:ann  to:"Bob Smith"  subject:invoice  has:attachment  is:unread  is:starred
    in:archive  before:2024-05-01  after:2024/01/31  "exact words"  free words

Values with spaces go in double quotes. Anything the parser does not know (an unknown operator,
`is:whatever`, an impossible date) stays a word for full-text search, so nothing typed is
silently dropped. The input is cut to MAX_QUERY characters and control characters become
spaces (PostgreSQL refuses NUL in text), so any string a stranger can type is safe to parse.
"""

import datetime as dt
import re
from dataclasses import dataclass

MAX_QUERY = 500
MAX_VALUE = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# An optional `name:` then a quoted value (its closing quote may be missing) or a bare one.
_TOKEN = re.compile(r'(?:(?P<op>[A-Za-z]+):)?(?:"(?P<quoted>[^"]*)"?|(?P<bare>[^\s"]\S*))')
_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
TEXT_OPERATORS = {"from": "senders", "to": "recipients", "subject": "subjects", "in": "folders"}
IS_VALUES = {
    "unread": ("unread", True),
    "read": ("unread", False),
    "starred": ("starred", True),
    "flagged": ("starred", True),
    "unstarred": ("starred", False),
}


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[str, ...] = ()  # full text: every word must match
    senders: tuple[str, ...] = ()  # from: each must be in the sender's name or address
    recipients: tuple[str, ...] = ()  # to: each must be in a To or Cc name or address
    subjects: tuple[str, ...] = ()  # subject: each must be in the subject
    folders: tuple[str, ...] = ()  # in: a folder name or role; several mean any of them
    has_attachment: bool = False
    unread: bool | None = None
    starred: bool | None = None
    before: dt.date | None = None  # received before that day began (the person's time zone)
    after: dt.date | None = None  # received on that day or later

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def is_empty(self) -> bool:
        return self == SearchQuery()


def parse(text: str) -> SearchQuery:
    """The query typed in the search box, understood."""
    found: dict[str, list[str]] = {name: [] for name in ("words", *TEXT_OPERATORS.values())}
    flags: dict[str, object] = {}
    for match in _TOKEN.finditer(_CONTROL.sub(" ", text[:MAX_QUERY])):
        op, quoted, bare = match["op"], match["quoted"], match["bare"]
        value = (quoted if quoted is not None else bare or "").strip()[:MAX_VALUE]
        if op and value and _apply(op.lower(), value, found, flags):
            continue
        if op and not value:  # "from:" alone, or `from:""`
            found["words"].append(op)
        elif value:
            found["words"].append((f"{op}:{value}" if op else value)[:MAX_VALUE])
    return SearchQuery(**{name: tuple(values) for name, values in found.items()}, **flags)  # type: ignore[arg-type]


def _apply(op: str, value: str, found: dict[str, list[str]], flags: dict[str, object]) -> bool:
    """Records a known operator; False when `op:value` is not one (it is then a word)."""
    lowered = value.lower()
    if op in TEXT_OPERATORS:
        found[TEXT_OPERATORS[op]].append(value)
    elif op == "has" and lowered in ("attachment", "attachments"):
        flags["has_attachment"] = True
    elif op == "is" and lowered in IS_VALUES:
        name, setting = IS_VALUES[lowered]
        flags[name] = setting
    elif op in ("before", "after") and (day := _date(value)) is not None:
        flags[op] = day
    else:
        return False
    return True


def _date(value: str) -> dt.date | None:
    match = _DATE.fullmatch(value)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
