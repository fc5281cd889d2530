"""Conversations from Message-ID, In-Reply-To and References, with a subject fallback.

The rules (after JWZ's threading, reduced to what a store that grows batch by batch needs):
messages that name each other — one's Message-ID among another's References or In-Reply-To —
or that name a common ancestor, are one conversation. A reply-like message ("Re:", "Fwd:"…)
that names nothing we know joins the recent conversation with the same base subject. Merged
conversations keep the oldest id, so thread ids stay stable across syncs.

Django-free: the sync service feeds it what it read from the database.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Re:, RE:, Fwd:, FW:, Aw: (German), Sv: (Nordic), Antw:, Ref:, "Re[2]:", "[list-tag]".
_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|sv|vs|antw|wg|tr|ref|rif|r)(\[\d+\])?\s*[:：]\s*|\[[^\]]{1,40}\]\s*)+",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def subject_key(subject: str) -> str:
    """The base subject: reply and forward prefixes and list tags gone, lower case, one space."""
    return _SPACE.sub(" ", _PREFIX.sub("", subject or "")).strip().lower()[:255]


def is_reply_like(subject: str) -> bool:
    return bool(_PREFIX.match(subject or "")) and bool(subject_key(subject))


@dataclass(frozen=True)
class Envelope:
    """What threading needs of one message."""

    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    subject: str

    def named_ids(self) -> set[str]:
        """Every Message-ID this message is about: its own, its parent's, its ancestors'."""
        return {i for i in (self.message_id, self.in_reply_to, *self.references) if i}


class _Groups:
    """Union-find over indexes."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def join(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def group_batch(batch: Sequence[Envelope]) -> list[list[int]]:
    """Indexes of `batch` grouped into conversations by the Message-IDs they share."""
    groups = _Groups(len(batch))
    first_seen: dict[str, int] = {}
    for index, envelope in enumerate(batch):
        for message_id in envelope.named_ids():
            if message_id in first_seen:
                groups.join(first_seen[message_id], index)
            else:
                first_seen[message_id] = index
    members: dict[int, list[int]] = {}
    for index in range(len(batch)):
        members.setdefault(groups.find(index), []).append(index)
    return list(members.values())


@dataclass(frozen=True)
class Assignment:
    indexes: tuple[int, ...]  # positions in the batch
    thread_id: int | None  # an existing conversation, or None for a new one
    merged_thread_ids: tuple[int, ...]  # other existing conversations to fold into thread_id


def assign(
    batch: Sequence[Envelope],
    thread_of_message_id: dict[str, int],
    thread_of_subject: dict[str, int],
) -> list[Assignment]:
    """Which conversation each group of the batch belongs to.

    `thread_of_message_id`: existing messages' Message-ID → thread id, for every id the batch
    names (and for messages already stored that name the batch's ids as their parent).
    `thread_of_subject`: recent conversations by subject key, for the reply-like fallback.
    """
    assignments = []
    for indexes in group_batch(batch):
        named: set[str] = set().union(*(batch[i].named_ids() for i in indexes))
        existing = sorted({thread_of_message_id[i] for i in named if i in thread_of_message_id})
        if not existing:
            existing = _subject_match((batch[i] for i in indexes), thread_of_subject)
        assignments.append(
            Assignment(
                indexes=tuple(indexes),
                thread_id=existing[0] if existing else None,
                merged_thread_ids=tuple(existing[1:]),
            )
        )
    return assignments


def _subject_match(envelopes: Iterable[Envelope], thread_of_subject: dict[str, int]) -> list[int]:
    """At most one conversation: the oldest whose subject a reply-like message repeats."""
    keys = {subject_key(e.subject) for e in envelopes if is_reply_like(e.subject)}
    return sorted(thread_of_subject[key] for key in keys if key in thread_of_subject)[:1]
