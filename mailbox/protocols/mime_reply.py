"""Subjects and thread headers for a reply or a forward.

`reply_subject("Re: AW: Fwd: Plans")` is "Re: Plans": every reply or forward prefix a mail
program puts in front (in English, German, the Nordic languages, Dutch, Italian, Polish,
French, Portuguese, Chinese; with a count like "Re[2]:" or a full-width colon) is taken off
before one is put back, so prefixes never stack. List tags such as "[team]" are kept.

`reply_references(...)` follows RFC 5322 3.6.4: the parent's References (or, without them,
its single In-Reply-To) followed by the parent's Message-ID; long threads keep the first id
(the thread's root) and the most recent ones, as most clients do.
"""

import re

from mailbox.protocols.mime_build import MAX_ID_LENGTH
from mailbox.protocols.mime_headers import parse_ids

__all__ = ["MAX_REFERENCES", "forward_subject", "reply_references", "reply_subject"]

MAX_REFERENCES = 20
_PREFIX = re.compile(
    r"\s*(?:re|aw|sv|vs|antw|odp|rif|fwd?|wg|tr|enc|doorst|vl|回复|回覆|答复|转发|轉寄)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)


def strip_prefixes(subject: str) -> str:
    """The subject without its leading Re:/Fwd:-style prefixes."""
    subject = " ".join(subject.split())
    while match := _PREFIX.match(subject):
        subject = subject[match.end() :]
    return subject


def reply_subject(subject: str) -> str:
    return f"Re: {strip_prefixes(subject)}".rstrip()


def forward_subject(subject: str) -> str:
    return f"Fwd: {strip_prefixes(subject)}".rstrip()


def reply_references(
    parent_message_id: str | None,
    parent_references: tuple[str, ...] = (),
    parent_in_reply_to: tuple[str, ...] = (),
    limit: int = MAX_REFERENCES,
) -> tuple[str, ...]:
    """The References of a reply to the parent message, ids as "<id@host>"."""
    ids = list(_clean(parent_references))
    if not ids:
        earlier = _clean(parent_in_reply_to)
        ids = list(earlier) if len(earlier) == 1 else []
    ids.extend(_clean((parent_message_id,) if parent_message_id else ()))
    ids = list(dict.fromkeys(ids))
    if len(ids) > limit:
        ids = ids[:1] + ids[len(ids) - (limit - 1) :]
    return tuple(ids)


def _clean(values: tuple[str, ...]) -> tuple[str, ...]:
    ids = parse_ids(" ".join(values))
    # What build_message would refuse is left out: too long, not ASCII, no "@".
    return tuple(i for i in ids if len(i) <= MAX_ID_LENGTH and i.isascii() and "@" in i)
