"""Where a sync parses what it fetched: in helper processes when there is much of it.

A first sync of a big folder spends most of its time in the `email` parser; with the parsing
in a helper (mailbox/protocols/mime_pool.py) the worker fetches the next batch and writes the
last one meanwhile. A stage with a few messages parses them itself: starting a helper would
cost more than it saves.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from mailbox.protocols.mime_pool import Kind, ParserPool


class FolderParsers:
    """The parsers of one folder's sync. Its stages (envelopes, then bodies) share one pool,
    whose helpers start when a stage first has enough to parse: a first sync starts each
    helper once, not once per stage."""

    def __init__(self) -> None:
        self._helpers = ParserPool(settings.MAIL_SYNC_PARSERS)
        self._in_worker = ParserPool(0)

    def for_stage(self, messages: int, kind: Kind) -> ParserPool:
        """Where a stage with `messages` of `kind` to parse parses them; helpers are started
        (or readied for `kind`) at once, before the stage fetches its first batch."""
        if messages >= settings.MAIL_SYNC_PARSE_POOL_MIN:
            self._helpers.start(kind)
            return self._helpers
        return self._in_worker

    def close(self) -> None:
        self._helpers.close()


@contextmanager
def folder_parsers() -> Iterator[FolderParsers]:
    parsers = FolderParsers()
    try:
        yield parsers
    finally:
        parsers.close()
