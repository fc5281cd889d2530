"""An iterator run one step ahead in a thread: the next IMAP batch is read while this one is
stored.

Reading a FETCH reply mostly waits on the socket and TLS, and writing a batch to the database
mostly waits in the database driver: both let go of the GIL, so a thread overlaps them. The
thread is the only user of the connection while it runs, so the caller must not touch it until
the `with` block ends: leaving the block (normally or by an exception) stops the thread after
the step it is in and waits for it, so the connection is free again afterwards.
"""

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


@contextmanager
def prefetched(items: Iterator[T], ahead: int = 1) -> Iterator[Iterator[T]]:
    """`items`, produced up to `ahead` steps early by a thread; its exceptions are raised
    here, at the step where they happened."""
    ready: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(ready, (item, None), stop):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            _put(ready, (_DONE, error), stop)
        else:
            _put(ready, (_DONE, None), stop)

    worker = threading.Thread(target=produce, name="imap-prefetch", daemon=True)
    worker.start()

    def consume() -> Iterator[T]:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]

    try:
        yield consume()
    finally:
        stop.set()  # a producer waiting on the full queue sees it within 50 ms
        worker.join()


def _put(
    ready: queue.Queue, entry: tuple[object, BaseException | None], stop: threading.Event
) -> bool:
    while not stop.is_set():
        try:
            ready.put(entry, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
