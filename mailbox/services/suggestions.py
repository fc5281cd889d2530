"""Address suggestions for To, Cc and Bcc: the person's correspondents whose name has a word,
or whose address, starting with what was typed (each typed word must start one), case and
accents ignored; people written to first, then the most recent. Only the person's own rows.

One query, an index range scan on (user, word) in mailbox_correspondentword. Measured with
100,000 correspondents of one person (300,000 words) on a busy 2-core machine: 1-5 ms for a
prefix of two letters or more on PostgreSQL, 1-2.5 ms on SQLite, where a LIKE over names and
addresses took 20-150 ms. A word of one letter matches too much to be looked up alone (20-30
ms): see MIN_TERM.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, F, IntegerField, QuerySet, When

from accounts.models import User
from mailbox.models import Correspondent, CorrespondentWord
from mailbox.services.correspondents import split_words, words_of

MIN_TERM = 2
LIMIT = 8
MAX_TERMS = 4
CANDIDATES = 200  # read when one-letter words narrow them in Python
_HIGHEST = "\U0010ffff"  # above every character a word can continue with


@dataclass(frozen=True)
class Suggestion:
    name: str
    address: str

    @property
    def written(self) -> str:
        """As it goes into the field: `Name <address>`, the name quoted when it must be."""
        if not self.name:
            return self.address
        name = " ".join(self.name.replace('"', "").replace("\\", "").split())  # one line
        specials = any(c in name for c in ",;:<>@()[].")
        return f'"{name}" <{self.address}>' if specials else f"{name} <{self.address}>"


def suggest(user: User, typed: str, limit: int = LIMIT) -> list[Suggestion]:
    """At most `limit` of the person's correspondents matching `typed`: nothing unless one
    typed word has MIN_TERM characters. One-letter words only narrow what the longer ones
    found (matching one letter in SQL reads a good part of the table)."""
    terms = split_words(typed)[:MAX_TERMS]
    strong = [term for term in terms if len(term) >= MIN_TERM]
    weak = [term for term in terms if len(term) < MIN_TERM]
    if not strong:
        return []
    found = Correspondent.objects.filter(user=user)
    for term in strong:
        found = found.filter(pk__in=_starting_with(user, term).values("correspondent_id"))
    written_to = Case(When(written_count__gt=0, then=1), default=0, output_field=IntegerField())
    ranked = found.annotate(written_to=written_to).order_by(
        "-written_to", F("last_at").desc(nulls_last=True), "address"
    )
    rows = ranked.values_list("name", "address")[: CANDIDATES if weak else limit]
    matching = [row for row in rows if _starts_words(words_of(*row), weak)]
    return [Suggestion(name, address) for name, address in matching[:limit]]


def _starts_words(words: set[str], terms: list[str]) -> bool:
    return all(any(word.startswith(term) for word in words) for term in terms)


def _starting_with(user: User, term: str) -> QuerySet[CorrespondentWord]:
    words = CorrespondentWord.objects.filter(user=user)
    if connection.vendor == "postgresql":  # LIKE 'term%' on the varchar_pattern_ops index
        return words.filter(word__startswith=term)
    # SQLite's LIKE with ESCAPE (as Django writes it) never uses an index; a range does.
    return words.filter(word__gte=term, word__lt=term + _HIGHEST)
