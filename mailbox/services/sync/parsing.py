"""Where a sync parses what it fetched: in helper processes when there is much of it.

A first sync of a big folder spends most of its time in the `email` parser; with the parsing
in a helper (mailbox/protocols/mime_pool.py) the worker fetches the next batch and writes the
last one meanwhile. A sync of a few new messages parses them itself: starting a helper would
cost more than it saves.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from mailbox.protocols.mime_pool import ParserPool


@contextmanager
def parser_pool(messages: int) -> Iterator[ParserPool]:
    """A pool for `messages` messages to parse: helpers only for a big enough job."""
    big = messages >= settings.MAIL_SYNC_PARSE_POOL_MIN
    with ParserPool(settings.MAIL_SYNC_PARSERS if big else 0) as pool:
        yield pool
