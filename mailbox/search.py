"""Full-text search over the local store, on PostgreSQL or SQLite (see migrations 0002, 0005).

Every word must match (the last as a prefix, so results come while typing). Words are reduced
to letters and digits before they reach the query syntax, and travel as parameters only.
"""

import re

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from mailbox.models import Message

_WORD = re.compile(r"\w+", re.UNICODE)
_POSTGRES = (  # search_vector: to_tsvector('simple', search_text), stored (migration 0005)
    "SELECT id FROM mailbox_message WHERE search_vector @@ to_tsquery('simple', %s)"
)
_SQLITE = "SELECT rowid FROM mailbox_message_fts WHERE mailbox_message_fts MATCH %s"


def words_of(query: str) -> list[str]:
    return _WORD.findall(query.lower())[:20]


def matching(messages: QuerySet[Message], query: str) -> QuerySet[Message]:
    """`messages` narrowed to those whose subject, addresses or text contain every word."""
    words = words_of(query)
    if not words:
        return messages
    *whole, last = words
    if connection.vendor == "postgresql":
        expression = " & ".join([*whole, f"{last}:*"])
        return messages.filter(id__in=RawSQL(_POSTGRES, [expression]))  # noqa: S611 (constant SQL)
    expression = " ".join([*(f'"{word}"' for word in whole), f'"{last}"*'])
    return messages.filter(id__in=RawSQL(_SQLITE, [expression]))  # noqa: S611 (constant SQL)
