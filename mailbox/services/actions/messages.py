"""Actions on messages: flags, moves, deletes. Each changes the store at once and records what
the server must be told, in one transaction (see the package docstring for the rules)."""

from collections import Counter
from collections.abc import Iterable, Iterator
from enum import StrEnum
from itertools import groupby

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from mailbox.models import Folder, FolderRole, MessageLocation
from mailbox.models.actions import ActionKind
from mailbox.services.actions.access import ActionNotPossible, role_folder
from mailbox.services.actions.local import (
    chunks,
    forget,
    locked,
    placeholder_uid,
    refresh_counts,
)
from mailbox.services.actions.queue import (
    Entry,
    delete_key,
    flag_key,
    move_key,
    record,
    waiting_rows,
)


class Flag(StrEnum):
    SEEN = "seen"
    FLAGGED = "flagged"


FLAG_FIELDS = {Flag.SEEN: "is_seen", Flag.FLAGGED: "is_flagged"}


@transaction.atomic
def do_set_flag(locations: Iterable[MessageLocation], flag: Flag, value: bool) -> int:
    """Sets (or clears) \\Seen or \\Flagged; returns how many messages."""
    return _set_flag(locked(location.pk for location in locations), flag, value)


@transaction.atomic
def do_mark_folder_read(folder: Folder) -> int:
    """Marks every unread message of the folder read: those the person has seen listed (mail
    that reaches the server meanwhile stays unread)."""
    unread = MessageLocation.objects.filter(folder=folder, is_seen=False, is_deleted=False)
    return _set_flag(locked(unread.values_list("pk", flat=True)), Flag.SEEN, True)


def _set_flag(rows: list[MessageLocation], flag: Flag, value: bool) -> int:
    field = FLAG_FIELDS[flag]
    for account_id, group in _by_account(_remote(rows)):
        entries = [
            Entry(
                flag_key(row.pk, flag),
                {"flag": flag.value, "value": value, "previous": getattr(row, field)},
                location_id=row.pk,
            )
            for row in group
        ]
        record(account_id, ActionKind.SET_FLAGS, entries)
    for ids in chunks([row.pk for row in rows]):
        MessageLocation.objects.filter(pk__in=ids).update(**{field: value})
    if flag == Flag.SEEN:
        _shift_unread([row for row in rows if row.is_seen != value], -1 if value else 1)
    return len(rows)


def _shift_unread(changed: list[MessageLocation], step: int) -> None:
    """The folders' unread counts by the rows that changed (locked by the caller): recounting
    a 70,000-message folder cost 10 ms on every message opened. Hidden rows are not counted;
    the sync recounts anyway, so any drift is corrected at the next poll."""
    per_folder = Counter(row.folder_id for row in changed if not row.is_deleted)
    for folder_id, count in per_folder.items():
        Folder.objects.filter(pk=folder_id).update(
            unread_count=Greatest(F("unread_count") + step * count, Value(0))
        )


@transaction.atomic
def do_move(locations: Iterable[MessageLocation], folder: Folder) -> int:
    """Moves messages to a folder of their own account; returns how many moved."""
    return _move(locked(location.pk for location in locations), folder)


def _move(rows: list[MessageLocation], folder: Folder) -> int:
    rows = [row for row in rows if row.folder_id != folder.pk]
    if any(row.folder.account_id != folder.account_id for row in rows):
        raise ValueError("a move stays within one account")
    if not rows:
        return 0
    sources = {row.folder_id for row in rows}
    if folder.is_local or any(row.folder.is_local for row in rows):
        for row in rows:
            row.folder, row.uid = folder, 0
    else:
        _record_moves(rows, folder)
    MessageLocation.objects.bulk_update(rows, ["folder", "uid"], batch_size=500)
    refresh_counts({*sources, folder.pk})
    return len(rows)


def _record_moves(rows: list[MessageLocation], folder: Folder) -> None:
    """One waiting move per message: a second move changes its destination, and a move back
    to where the server still has the message cancels it."""
    waiting = waiting_rows(folder.account_id, [move_key(row.pk) for row in rows])
    entries = []
    for row in rows:
        key = move_key(row.pk)
        origin = waiting[key].payload if key in waiting else _origin(row)
        if origin["from_folder"] == folder.pk:
            entries.append(Entry(key, None))
            row.uid = origin["from_uid"] or placeholder_uid(row.pk)
        else:
            payload = {**origin, "to_folder": folder.pk, "message": row.message_id}
            entries.append(Entry(key, payload, location_id=row.pk))
            row.uid = placeholder_uid(row.pk)
        row.folder = folder
    record(folder.account_id, ActionKind.MOVE, entries)


def _origin(row: MessageLocation) -> dict[str, int | None]:
    # A placeholder here means a move of this message is being replayed right now: its
    # UID in this folder is filled in when that move finishes (outcomes.finish_move).
    return {"from_folder": row.folder_id, "from_uid": row.uid if row.uid > 0 else None}


@transaction.atomic
def do_delete(locations: Iterable[MessageLocation], *, permanently: bool = False) -> int:
    """To the account's Trash; for good when already there (or when asked)."""
    rows = locked(location.pk for location in locations)
    final = [row for row in rows if permanently or row.folder.role == FolderRole.TRASH]
    to_trash = [row for row in rows if not (permanently or row.folder.role == FolderRole.TRASH)]
    _move_to_role(to_trash, FolderRole.TRASH)
    _delete_for_good(final)
    return len(rows)


@transaction.atomic
def do_archive(locations: Iterable[MessageLocation]) -> int:
    return _move_to_role(locked(location.pk for location in locations), FolderRole.ARCHIVE)


@transaction.atomic
def do_mark_spam(locations: Iterable[MessageLocation]) -> int:
    return _move_to_role(locked(location.pk for location in locations), FolderRole.JUNK)


@transaction.atomic
def do_mark_not_spam(locations: Iterable[MessageLocation]) -> int:
    """Back to the inbox (moving out of Junk is what trains a server's spam filter)."""
    return _move_to_role(locked(location.pk for location in locations), FolderRole.INBOX)


@transaction.atomic
def do_empty_folder(folder: Folder) -> int:
    """Deletes every message of Trash or Junk for good; returns how many."""
    if folder.role not in (FolderRole.TRASH, FolderRole.JUNK):
        raise ActionNotPossible("Only Trash and Junk can be emptied.")
    shown = MessageLocation.objects.filter(folder=folder, is_deleted=False)
    rows = locked(shown.values_list("pk", flat=True))
    _delete_for_good(rows)
    return len(rows)


def _move_to_role(rows: list[MessageLocation], role: FolderRole) -> int:
    targets = {account_id: role_folder(account_id, role) for account_id, _ in _by_account(rows)}
    return sum(_move(list(group), targets[account_id]) for account_id, group in _by_account(rows))


def _delete_for_good(rows: list[MessageLocation]) -> None:
    """Local folders forget at once. On the server, the location is hidden (\\Deleted, as IMAP
    marks a message before expunging it) until the server confirms; a refusal unhides it."""
    forget(row.pk for row in rows if row.folder.is_local)
    remote = _remote(rows)
    for account_id, group in _by_account(remote):
        entries = [
            Entry(delete_key(row.pk), {"message": row.message_id}, location_id=row.pk)
            for row in group
        ]
        record(account_id, ActionKind.DELETE, entries)
    for ids in chunks([row.pk for row in remote]):
        MessageLocation.objects.filter(pk__in=ids).update(is_deleted=True)
    refresh_counts(row.folder_id for row in remote)


def _remote(rows: list[MessageLocation]) -> list[MessageLocation]:
    return [row for row in rows if not row.folder.is_local]


def _by_account(
    rows: list[MessageLocation],
) -> Iterator[tuple[int, Iterator[MessageLocation]]]:
    def account(row: MessageLocation) -> int:
        return row.folder.account_id

    return groupby(sorted(rows, key=account), key=account)
