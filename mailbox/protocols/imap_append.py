"""Watching a long APPEND: the message's bytes sent in slices, with a hook after each.

imaplib sends an APPEND's literal with one `send()` (the method imaplib documents as the one
to override), so a Sent copy of tens of MB on a slow link is one long write nobody can watch.
For the length of one `with reporting_writes(client, on_progress):` block, the connection's
`send` writes in slices of WRITE_SLICE bytes and calls `on_progress(bytes_sent)` after each
slice of a long write. If the hook raises, the connection is shut down at once (no LOGOUT:
it would be read as part of the literal), so the server never sees the whole literal and
stores nothing; the exception propagates.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mailbox.protocols.imap import ImapClient

WRITE_SLICE = 256 * 1024


@contextmanager
def reporting_writes(client: ImapClient, on_progress: Callable[[int], None]) -> Iterator[None]:
    imap4 = client._imap  # IMAPClient's imaplib connection; its send() is replaced locally
    write = imap4.send

    def send(data: bytes) -> None:
        view = memoryview(data)
        for start in range(0, len(view), WRITE_SLICE):
            write(view[start : start + WRITE_SLICE])
            if len(view) > WRITE_SLICE:
                _report(min(start + WRITE_SLICE, len(view)))

    def _report(sent: int) -> None:
        try:
            on_progress(sent)
        except BaseException:
            imap4.shutdown()
            raise

    imap4.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        del imap4.send  # the class's send() again
