"""Keeping the correspondents table (mailbox/models/contacts.py) up to date, in sets.

Two sources, neither on the sync's path:
- `refresh_from_messages(account_id)` runs as a task after a sync that stored new messages
  (mailbox/tasks/contacts.py). It reads the account's Message rows above its cursor in chunks:
  a message from one of the person's own addresses counts its To and Cc as people written
  to; any other counts its sender as someone who wrote. Messages in Junk or Drafts count for
  nothing, nor do the person's own addresses, nor Sent copies of messages queued here (the
  second source counted those already). Each chunk is one transaction: claim the cursor
  (conditional UPDATE), one multi-row upsert that adds to the counts, the words of new or
  renamed rows.
- `record_written_to(user, people)` runs when a message is queued, so the people just
  written to are suggested at once (its Bcc too, which the Sent copy's envelope leaves out).

Counts only order the suggestions loosely (people written to first, then the most recent);
they are not shown, so messages deleted later are not taken back out.
"""

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Identity, MailAccount, User
from mailbox.models import (
    Correspondent,
    CorrespondentCursor,
    CorrespondentWord,
    FolderRole,
    Message,
    MessageLocation,
    OutgoingMessage,
)
from mailbox.models.bulk import insert_rows

CHUNK = 1000  # messages read per transaction (SQLite: a short write lock)
UPSERT_ROWS = 500  # rows per INSERT ... ON CONFLICT statement
_IGNORED_ROLES = (FolderRole.JUNK, FolderRole.DRAFTS)
_WORD_SPLIT = re.compile(r"[\s,;:()\[\]<>\"]+")


@dataclass
class Tally:
    """What one chunk says about one address."""

    name: str = ""
    written: int = 0
    received: int = 0
    last_at: dt.datetime | None = None

    def add(self, name: str, when: dt.datetime | None, *, written: bool) -> None:
        if written:
            self.written += 1
        else:
            self.received += 1
        is_latest = self.last_at is None or (when is not None and when >= self.last_at)
        if name and (is_latest or not self.name):
            self.name = name
        if when is not None and is_latest:
            self.last_at = when


def fold(text: str) -> str:
    """Lowercased, accents removed: what is stored as a word and what a query is matched as."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_words(text: str) -> list[str]:
    """Folded words, split at spaces, quotes, brackets and punctuation between addresses."""
    return [word[:320] for word in _WORD_SPLIT.split(fold(text)) if word]


def words_of(name: str, address: str) -> set[str]:
    """A correspondent's searchable words: each word of the name, and the whole address."""
    return {*split_words(name), *([fold(address)[:320]] if address else [])}


def own_addresses(user_id: int) -> set[str]:
    accounts = MailAccount.objects.filter(user_id=user_id).values_list("email", flat=True)
    identities = Identity.objects.filter(account__user_id=user_id).values_list("email", flat=True)
    return {address.lower() for address in [*accounts, *identities]}


# From the local store -------------------------------------------------------------------------


def refresh_from_messages(account_id: int) -> int:
    """Counts the account's messages not counted yet; returns how many were read."""
    account = MailAccount.objects.get(pk=account_id)
    CorrespondentCursor.objects.get_or_create(account=account)
    own = own_addresses(account.user_id)
    read = 0
    while True:
        done, more = _refresh_chunk(account, own)
        read += done
        if not more:
            return read


def _refresh_chunk(account: MailAccount, own: set[str]) -> tuple[int, bool]:
    """One chunk in one transaction: (messages read, whether more may wait)."""
    with transaction.atomic():
        cursor = CorrespondentCursor.objects.get(account=account).last_message_id
        rows = list(_messages_after(account.pk, cursor)[:CHUNK])
        if not rows:
            return 0, False
        claimed = CorrespondentCursor.objects.filter(
            account=account, last_message_id=cursor
        ).update(last_message_id=rows[-1][0])
        if not claimed:  # another run counted these: stop here
            return 0, False
        queued_here = _queued_here(account.pk, [r[5] for r in rows if r[2].lower() in own])
        tallies: dict[str, Tally] = {}
        now = timezone.now()
        for _, sender_name, sender_email, recipients, date, message_id, ignored in rows:
            if ignored or message_id in queued_here:
                continue
            when = min(date, now) if date else None  # a Date header in the future: now
            if sender_email.lower() in own:
                people = [*recipients.get("to", []), *recipients.get("cc", [])]
                for name, address in people:
                    _tally(tallies, own, name, address, when, written=True)
            else:
                _tally(tallies, own, sender_name, sender_email, when, written=False)
        upsert(account.user_id, tallies)
    return len(rows), len(rows) == CHUNK


def _messages_after(account_id: int, cursor: int) -> QuerySet[Message]:
    ignored = MessageLocation.objects.filter(
        message=OuterRef("pk"), folder__role__in=_IGNORED_ROLES
    )
    return (
        Message.objects.filter(account_id=account_id, pk__gt=cursor)
        .order_by("pk")
        .values_list(
            "pk", "sender_name", "sender_email", "recipients", "date", "message_id", Exists(ignored)
        )
    )


def _queued_here(account_id: int, message_ids: list[str]) -> set[str]:
    """The Message-IDs among these that this site queued (counted when they were queued)."""
    wanted = [message_id for message_id in message_ids if message_id]
    if not wanted:
        return set()
    queued = OutgoingMessage.objects.filter(account_id=account_id, message_id__in=wanted)
    return set(queued.values_list("message_id", flat=True))


def _tally(
    tallies: dict[str, Tally],
    own: set[str],
    name: str,
    address: str,
    when: dt.datetime | None,
    *,
    written: bool,
) -> None:
    key = (address or "").strip().lower()[:320]
    if "@" not in key or key in own:
        return
    tallies.setdefault(key, Tally()).add((name or "").strip()[:300], when, written=written)


# From the outbox ------------------------------------------------------------------------------


def record_written_to(user: User, people: Iterable[tuple[str, str]]) -> None:
    """The recipients of a message the person just queued: written to, now."""
    own, now = own_addresses(user.pk), timezone.now()
    tallies: dict[str, Tally] = {}
    for name, address in people:
        _tally(tallies, own, name, address, now, written=True)
    with transaction.atomic():
        upsert(user.pk, tallies)


# Writing the rows -----------------------------------------------------------------------------


_UPSERT = """
INSERT INTO {table} (user_id, address, name, written_count, received_count, last_at)
VALUES {values}
ON CONFLICT (user_id, address) DO UPDATE SET
  written_count = {table}.written_count + excluded.written_count,
  received_count = {table}.received_count + excluded.received_count,
  name = CASE WHEN excluded.name <> '' AND ({table}.name = '' OR {table}.last_at IS NULL
              OR excluded.last_at >= {table}.last_at)
         THEN excluded.name ELSE {table}.name END,
  last_at = CASE WHEN {table}.last_at IS NULL OR excluded.last_at > {table}.last_at
            THEN excluded.last_at ELSE {table}.last_at END
"""


def upsert(user_id: int, tallies: dict[str, Tally]) -> None:
    """Adds the tallies to the user's rows (creating missing ones) and rewrites the words of
    rows that are new or renamed. Call inside a transaction. Addresses go in sorted order, so
    two concurrent upserts lock shared rows in the same order."""
    addresses = sorted(tallies)
    table = connection.ops.quote_name(Correspondent._meta.db_table)
    last_at = Correspondent._meta.get_field("last_at")
    for start in range(0, len(addresses), UPSERT_ROWS):
        chunk = addresses[start : start + UPSERT_ROWS]
        before = dict(_rows(user_id, chunk).values_list("address", "name"))
        params: list[object] = []
        for address in chunk:
            tally = tallies[address]
            when = last_at.get_db_prep_save(tally.last_at, connection)
            params += [user_id, address, tally.name, tally.written, tally.received, when]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT.format(table=table, values=values), params)
        after = _rows(user_id, chunk).values_list("pk", "address", "name")
        changed = [(pk, a, n) for pk, a, n in after if a not in before or before[a] != n]
        _rewrite_words(user_id, changed)


def _rows(user_id: int, addresses: Sequence[str]) -> QuerySet[Correspondent]:
    return Correspondent.objects.filter(user_id=user_id, address__in=addresses)


def _rewrite_words(user_id: int, rows: list[tuple[int, str, str]]) -> None:
    if not rows:
        return
    CorrespondentWord.objects.filter(correspondent_id__in=[pk for pk, _, _ in rows]).delete()
    words = [(user_id, pk, word) for pk, address, name in rows for word in words_of(name, address)]
    fields = ["user_id", "correspondent_id", "word"]
    insert_rows(CorrespondentWord, fields, words, ignore_conflicts=True)
