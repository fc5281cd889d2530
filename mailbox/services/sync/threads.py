"""Conversations for newly stored messages (the database side of mailbox/conversations.py)."""

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from django.utils import timezone

from mailbox.conversations import Envelope, assign, is_reply_like, subject_key
from mailbox.models import Message, Thread
from mailbox.models.bulk import insert_rows, rows_among

SUBJECT_WINDOW = dt.timedelta(days=30)


class Filed(Protocol):
    """A message about to be stored (a Message, or the sync's plain envelope row)."""

    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    thread_id: int | None


def file_into_conversations(account_id: int, messages: Sequence[Filed]) -> None:
    """Sets `thread_id` on messages about to be created (in memory: the caller saves them in
    bulk), creating conversations in bulk and merging those they join."""
    if not messages:
        return
    batch = [
        Envelope(m.message_id, m.in_reply_to, tuple(m.references), m.subject) for m in messages
    ]
    named = set().union(*(e.named_ids() for e in batch)) - {""}
    own_ids = {e.message_id for e in batch if e.message_id}
    thread_of_id: dict[str, int] = {}
    for message_id, in_reply_to, thread_id in _threaded_naming(account_id, named, own_ids):
        thread_of_id.setdefault(message_id, thread_id)
        if in_reply_to in own_ids:  # a reply stored before its parent: same conversation
            thread_of_id.setdefault(in_reply_to, thread_id)
    # Only a reply-like subject joins a conversation by subject (conversations.assign).
    keys = {subject_key(e.subject) for e in batch if is_reply_like(e.subject)}
    thread_of_subject = _recent_threads(account_id, keys)
    assignments = assign(batch, thread_of_id, thread_of_subject)
    new_keys = [
        (account_id, subject_key(messages[a.indexes[0]].subject))
        for a in assignments
        if a.thread_id is None
    ]
    created = iter(insert_rows(Thread, ["account_id", "subject_key"], new_keys, returning_ids=True))
    for assignment in assignments:
        thread_id = assignment.thread_id or next(created)
        if assignment.merged_thread_ids:  # rare: a message that joins two conversations
            Message.objects.filter(thread_id__in=assignment.merged_thread_ids).update(
                thread_id=thread_id
            )
            Thread.objects.filter(pk__in=assignment.merged_thread_ids).delete()
        for index in assignment.indexes:
            messages[index].thread_id = thread_id


def _threaded_naming(
    account_id: int, named: set[str], own_ids: set[str]
) -> list[tuple[str | int, ...]]:
    """(Message-ID, In-Reply-To, thread) of this account's threaded messages whose Message-ID
    is among `named` or whose In-Reply-To is among `own_ids`.

    Two queries, each led by its own index. The account is compared as `account_id + 0`,
    which no index serves: given a plain `account_id = ?`, both SQLite and PostgreSQL (its
    statistics still those of an empty table, in a fresh install's first sync) chose the
    account's index and read all of its messages for every batch (125-240 ms a batch on
    PostgreSQL). Without the account, every other account's copy of the same mail came back
    too (five accounts on one mailbox: 85-130 ms a batch against 27 ms). Raw SQL: Django's
    preparing of a few thousand IN values cost more than running the queries."""
    table, columns = Message._meta.db_table, "message_id, in_reply_to, thread_id"
    threaded = f"SELECT {columns} FROM {table} WHERE thread_id IS NOT NULL AND account_id + 0 = %s"  # noqa: S608 (names from the model)
    return [
        *rows_among(f"{threaded} AND message_id", sorted(named), [account_id]),
        *rows_among(
            f"{threaded} AND NOT (in_reply_to = '') AND in_reply_to", sorted(own_ids), [account_id]
        ),
    ]


def _recent_threads(account_id: int, keys: set[str]) -> dict[str, int]:
    """Conversations of the last SUBJECT_WINDOW by subject key; the oldest of each key."""
    if not keys:
        return {}
    recent = Thread.objects.filter(
        account_id=account_id,
        subject_key__in=keys,
        created_at__gte=timezone.now() - SUBJECT_WINDOW,
    )
    # Sorted here: asked to ORDER BY, SQLite chose the account's index over (account, key).
    by_key = sorted(recent.values_list("subject_key", "pk"), key=lambda row: -row[1])
    return dict(by_key)
