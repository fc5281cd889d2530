"""Message lists: a page of rows, newest first, by keyset (never OFFSET).

Rows are ordered by (sort_date, id) descending, the order of the `location_list_order` index,
and a page continues from a Cursor, the (sort_date, id) of the row it follows; the query says
`sort_date <= d AND NOT (sort_date = d AND id >= i)`, a range both databases answer from the
index, so page 1,000 costs what page 1 does. Every writer sets sort_date (the sync falls back to
the arrival time), so rows without one are left out rather than breaking the order.

One query reads a page's rows (with their message and account, `values()` only: never the
stored bodies); a list over several folders (the unified inbox) takes each folder's first
rows from its own index range and merges them, instead of sorting all the inboxes together.
The conversation view shows a location only when no newer location of its thread is in the
list (NOT EXISTS, also per index range), and one more query reads the shown threads' members.
"""

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from mailbox.models import FolderRole, Message, MessageLocation
from mailbox.search import matching
from mailbox.selectors.folders import AccountItem, FolderItem, Sidebar
from mailbox.selectors.query import SearchQuery

PAGE_SIZE = 50
FEW_MATCHES = 2000  # a search word this rare is looked up in the full-text index first
NOT_SEARCHED = (FolderRole.TRASH, FolderRole.JUNK)  # unless asked for with in:
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_CURSOR = re.compile(r"(-?\d{1,17})_(\d{1,18})")
NEWEST_FIRST = ("-sort_date", "-pk")
OLDEST_FIRST = ("sort_date", "pk")
_FIELDS = (
    "pk",
    "folder_id",
    "folder__account_id",
    "sort_date",
    "is_seen",
    "is_flagged",
    "message__subject",
    "message__sender_name",
    "message__sender_email",
    "message__snippet",
    "message__has_attachments",
    "message__thread_id",
)


@dataclass(frozen=True)
class Cursor:
    """A row's place in the list order; travels in the query string as `<µs>_<id>`."""

    sort_date: dt.datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.sort_date - EPOCH) // dt.timedelta(microseconds=1)}_{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> "Cursor | None":
        """The cursor in `text`; None for anything that is not one."""
        match = _CURSOR.fullmatch(text or "")
        if match is None:
            return None
        try:
            moment = EPOCH + dt.timedelta(microseconds=int(match[1]))
        except OverflowError:
            return None
        return cls(moment, int(match[2]))


@dataclass
class Row:
    id: int  # the location: what the row opens
    folder_id: int
    account_id: int
    date: dt.datetime
    is_seen: bool
    is_flagged: bool
    has_attachments: bool
    subject: str
    sender_name: str
    sender_email: str
    snippet: str
    thread_id: int | None
    count: int = 1  # messages of the conversation in this list (conversation view)
    location_ids: list[int] = field(default_factory=list)  # what selecting the row acts on
    account: AccountItem | None = None  # for the marker (see `label`)
    folder: FolderItem | None = None

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.date, self.id)

    @property
    def sender(self) -> str:
        return self.sender_name or self.sender_email

    @property
    def selection(self) -> str:
        return ",".join(map(str, self.location_ids or [self.id]))


@dataclass
class Page:
    rows: list[Row]
    older: Cursor | None = None  # where the "Older" link continues from
    newer: Cursor | None = None  # where the "Newer" link continues from (None: the top)

    @property
    def newest(self) -> Cursor | None:
        return self.rows[0].cursor if self.rows else None


@dataclass(frozen=True)
class Listing:
    """What a list shows: these folders, narrowed by `filters`, a row per message or thread."""

    folder_ids: tuple[int, ...]
    filters: Q = field(default_factory=Q)
    threads: bool = False
    # Read each folder's rows from its own index range and merge them (plain lists over a few
    # folders). Off for searches, whose filters the database had better apply once.
    merge_folders: bool = True


def page(
    listing: Listing,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """The page after `after` (older rows), before `before` (newer ones), else the first."""
    if before is not None:
        rows = _fetch(listing, before, older=False, limit=size + 1)
        if len(rows) <= size:  # reached the top: that is the first page
            return page(listing, size=size)
        rows = rows[:size][::-1]
        return Page(_complete(listing, rows), older=rows[-1].cursor, newer=rows[0].cursor)
    rows = _fetch(listing, after, older=True, limit=size + 1)
    older = rows[size - 1].cursor if len(rows) > size else None
    rows = rows[:size]
    newer = rows[0].cursor if after is not None and rows else None
    return Page(_complete(listing, rows), older=older, newer=newer)


def label(rows: list[Row], sidebar: Sidebar) -> list[Row]:
    """Rows given their account (marker) and folder (search results say where they are)."""
    accounts = {account.id: account for account in sidebar.accounts}
    folders = {folder.id: folder for folder in sidebar.folders}
    for row in rows:
        row.account, row.folder = accounts.get(row.account_id), folders.get(row.folder_id)
    return rows


def newer_rows(listing: Listing, since: Cursor, size: int = PAGE_SIZE) -> list[Row]:
    """Rows above `since` (mail that came in), newest first: the `size` closest to it, so
    that rows prepended poll after poll never leave a gap."""
    return _complete(listing, _fetch(listing, since, older=False, limit=size)[::-1])


def _fetch(listing: Listing, cursor: Cursor | None, *, older: bool, limit: int) -> list[Row]:
    """Rows from the cursor on, in the direction asked (newest first when `older`)."""
    if not listing.folder_ids:
        return []
    ordering = NEWEST_FIRST if older else OLDEST_FIRST
    rows = _keyset(_shown(listing), cursor, older=older)
    if len(listing.folder_ids) > 1 and listing.merge_folders:
        rows = rows.filter(pk__in=_merged(rows, listing.folder_ids, ordering, limit))
    return [_row(values) for values in rows.order_by(*ordering).values(*_FIELDS)[:limit]]


def _visible(folder_ids: Sequence[int]) -> QuerySet[MessageLocation]:
    return MessageLocation.objects.filter(
        folder_id__in=folder_ids, is_deleted=False, sort_date__isnull=False
    )


def _shown(listing: Listing) -> QuerySet[MessageLocation]:
    rows = _visible(listing.folder_ids).filter(listing.filters)
    if listing.threads:
        rows = rows.filter(~Exists(_newer_in_thread(listing.folder_ids)))
    return rows


def _newer_in_thread(folder_ids: Sequence[int]) -> QuerySet[MessageLocation]:
    """A newer location of the same conversation in the list (none for thread-less mail)."""
    later = Q(sort_date__gt=OuterRef("sort_date")) | Q(
        sort_date=OuterRef("sort_date"), pk__gt=OuterRef("pk")
    )
    return _visible(folder_ids).filter(later, message__thread_id=OuterRef("message__thread_id"))


def _keyset(
    rows: QuerySet[MessageLocation], cursor: Cursor | None, *, older: bool
) -> QuerySet[MessageLocation]:
    if cursor is None:
        return rows
    if older:
        return rows.filter(sort_date__lte=cursor.sort_date).exclude(
            sort_date=cursor.sort_date, pk__gte=cursor.id
        )
    return rows.filter(sort_date__gte=cursor.sort_date).exclude(
        sort_date=cursor.sort_date, pk__lte=cursor.id
    )


def _merged(
    rows: QuerySet[MessageLocation], folder_ids: Sequence[int], ordering: Sequence[str], limit: int
) -> RawSQL:
    """Ids of each folder's first `limit` rows, one index range per folder, as a subquery:
    `SELECT * FROM (… folder 1 … LIMIT n) UNION ALL SELECT * FROM (… folder 2 …)`."""
    parts: list[str] = []
    params: list[Any] = []
    for number, folder_id in enumerate(folder_ids):
        one = rows.filter(folder_id=folder_id).order_by(*ordering).values("pk")[:limit]
        sql, one_params = one.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS part{number}")  # noqa: S608 (compiled by the ORM)
        params.extend(one_params)
    return RawSQL(" UNION ALL ".join(parts), params)  # noqa: S611 (compiled by the ORM)


def _row(values: dict[str, Any]) -> Row:
    return Row(
        id=values["pk"],
        folder_id=values["folder_id"],
        account_id=values["folder__account_id"],
        date=values["sort_date"],
        is_seen=values["is_seen"],
        is_flagged=values["is_flagged"],
        has_attachments=values["message__has_attachments"],
        subject=values["message__subject"],
        sender_name=values["message__sender_name"],
        sender_email=values["message__sender_email"],
        snippet=values["message__snippet"],
        thread_id=values["message__thread_id"],
    )


def _complete(listing: Listing, rows: list[Row]) -> list[Row]:
    """Conversation rows get their thread's members in the list: count, marks, selection."""
    thread_ids = {row.thread_id for row in rows if row.thread_id is not None}
    if not listing.threads or not thread_ids:
        return rows
    members = _visible(listing.folder_ids).filter(message__thread_id__in=thread_ids)
    found: dict[int, list[tuple[int, bool, bool, bool]]] = {}
    for thread_id, *member in members.order_by("-sort_date", "-pk").values_list(
        "message__thread_id", "pk", "is_seen", "is_flagged", "message__has_attachments"
    ):
        found.setdefault(thread_id, []).append(tuple(member))  # type: ignore[arg-type]
    for row in rows:
        if row.thread_id in found:
            group = found[row.thread_id]
            row.count = len(group)
            row.location_ids = [pk for pk, *_ in group]
            row.is_seen = all(seen for _, seen, _, _ in group)
            row.is_flagged = any(flagged for _, _, flagged, _ in group)
            row.has_attachments = any(attached for *_, attached in group)
    return rows


def search_listing(sidebar: Sidebar, query: SearchQuery, zone: dt.tzinfo) -> Listing:
    """The rows a search finds, as a list (one row per message). Dates are days in `zone`,
    the person's time zone: `after:` from that day's start, `before:` until it."""
    filters = Q()
    for text in query.senders:
        filters &= Q(message__sender_name__icontains=text) | Q(
            message__sender_email__icontains=text
        )
    for text in query.recipients:
        filters &= _recipient(text)
    for text in query.subjects:
        filters &= Q(message__subject__icontains=text)
    if query.has_attachment:
        filters &= Q(message__has_attachments=True)
    if query.unread is not None:
        filters &= Q(is_seen=not query.unread)
    if query.starred is not None:
        filters &= Q(is_flagged=query.starred)
    if query.after is not None:
        filters &= Q(sort_date__gte=_day_start(query.after, zone))
    if query.before is not None:
        filters &= Q(sort_date__lt=_day_start(query.before, zone))
    if query.words:
        filters &= _matching_words(sidebar, query.text)
    return Listing(search_folders(sidebar, query), filters, merge_folders=False)


def search_folders(sidebar: Sidebar, query: SearchQuery) -> tuple[int, ...]:
    """`in:` folders; else each account's "All mail" when it has one (Gmail: every message
    once), else all its folders but Trash and Junk."""
    if query.folders:
        return tuple(sorted({f.id for name in query.folders for f in sidebar.named(name)}))
    found: list[int] = []
    for account in sidebar.accounts:
        usable = [f for f in account.all_folders if f.is_selectable]
        everything = [f for f in usable if f.role == FolderRole.ALL]
        found += [f.id for f in everything or usable if f.role not in NOT_SEARCHED]
    return tuple(found)


def _matching_words(sidebar: Sidebar, text: str) -> Q:
    """Full text. A rare word's few matches are read from the index first and named by id:
    left inside the list's query, the database walks the list in date order testing every row
    (it cannot know the word is rare) — seconds on a big mailbox. A common word's matches come
    early in that walk, so it stays a subquery."""
    accounts = [account.id for account in sidebar.accounts]
    found = matching(Message.objects.filter(account_id__in=accounts), text).values("pk")
    ids = list(found.values_list("pk", flat=True)[: FEW_MATCHES + 1])
    if len(ids) <= FEW_MATCHES:
        return Q(message_id__in=ids)
    return Q(message__in=found)


def _recipient(text: str) -> Q:
    # SQLite keeps JSON text \u-escaped as Django wrote it; PostgreSQL gives characters back.
    forms = {text, json.dumps(text)[1:-1]}
    found = Q()
    for form in forms:
        found |= Q(message__recipients__to__icontains=form)
        found |= Q(message__recipients__cc__icontains=form)
    return found


def _day_start(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)
