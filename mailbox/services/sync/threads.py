"""Conversations for newly stored messages (the database side of mailbox/conversations.py)."""

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from django.utils import timezone

from mailbox.conversations import Envelope, assign, subject_key
from mailbox.models import Message, Thread
from mailbox.models.bulk import insert_rows

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
    # Two queries, each led by its own index; the account is checked here, not in SQL: given
    # it (or the two joined by OR), SQLite's planner took the account's index and read all of
    # the account's messages for every batch.
    threaded = Message.objects.filter(thread__isnull=False)
    fields = ("account_id", "message_id", "in_reply_to", "thread_id")
    found = [
        *threaded.filter(message_id__in=named).values_list(*fields),
        *threaded.filter(in_reply_to__in=own_ids).exclude(in_reply_to="").values_list(*fields),
    ]
    stored = [row[1:] for row in found if row[0] == account_id]
    thread_of_id: dict[str, int] = {}
    for message_id, in_reply_to, thread_id in stored:
        thread_of_id.setdefault(message_id, thread_id)
        if in_reply_to in own_ids:  # a reply stored before its parent: same conversation
            thread_of_id.setdefault(in_reply_to, thread_id)
    keys = {subject_key(e.subject) for e in batch} - {""}
    recent = Thread.objects.filter(
        account_id=account_id,
        subject_key__in=keys,
        created_at__gte=timezone.now() - SUBJECT_WINDOW,
    )
    # Sorted here: asked to ORDER BY, SQLite chose the account's index over (account, key).
    by_key = sorted(recent.values_list("subject_key", "pk"), key=lambda row: -row[1])
    thread_of_subject = dict(by_key)
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
