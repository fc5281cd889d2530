"""Running lookups side by side under a deadline, without waiting for stragglers.

A host that never answers must not hold discovery up: every socket has a time-out, and on
top of that the caller stops waiting at the deadline, leaves the executor's threads to finish
on their own (their sockets time out) and answers with what it has.
"""

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


@contextmanager
def background(workers: int) -> Iterator[ThreadPoolExecutor]:
    """An executor whose exit neither waits for running work nor starts queued work."""
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="discovery")
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def first_best(futures: Sequence[Future[T | None]], deadline: float) -> T | None:
    """The answer of the best-ranked future (`futures` are best first) that gave one.

    Returns as soon as a future has an answer and every better-ranked one has finished
    without; at `deadline` (a time.monotonic() value) returns the best answer so far.
    A future that raised counts as no answer.
    """
    pending = [f for f in futures if not f.done()]
    while True:
        decided, answer = _decided(futures)
        if decided:
            return answer
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _best_so_far(futures)
        _, still = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
        pending = list(still)


def _decided(futures: Sequence[Future[T | None]]) -> tuple[bool, T | None]:
    for future in futures:
        if not future.done():
            return False, None
        answer = _answer(future)
        if answer is not None:
            return True, answer
    return True, None


def _best_so_far(futures: Sequence[Future[T | None]]) -> T | None:
    for future in futures:
        if future.done() and (answer := _answer(future)) is not None:
            return answer
    return None


def _answer(future: Future[T | None]) -> T | None:
    if future.cancelled():
        return None
    error = future.exception()
    if error is not None:
        log.debug("a discovery step failed", exc_info=error)  # steps log their own errors
        return None
    return future.result()
