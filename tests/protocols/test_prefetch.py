"""prefetched() runs an iterator ahead in a thread and gives the connection back when it ends."""

import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext

import pytest

from mailbox.protocols.prefetch import prefetched

WAIT = 5.0  # seconds: an upper bound for what happens at once, never reached when all is well
THREAD_NAME = "imap-prefetch"


class Counting:
    """An endless iterator that counts the items it produced and can be slow at one step."""

    def __init__(self, slow_step: int | None = None, slow_for: float = 0.3) -> None:
        self.produced = 0
        self.slow_step, self.slow_for = slow_step, slow_for
        self.in_slow_step = threading.Event()
        self.slow_step_done = threading.Event()
        self.steps: dict[int, threading.Event] = {}

    def produced_event(self, step: int) -> threading.Event:
        return self.steps.setdefault(step, threading.Event())

    def __iter__(self) -> Iterator[int]:
        step = 0
        while True:
            if step == self.slow_step:
                self.in_slow_step.set()
                time.sleep(self.slow_for)
                self.slow_step_done.set()
            self.produced += 1
            self.produced_event(step).set()
            yield step
            step += 1


def prefetch_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == THREAD_NAME}


def failing_at(step: int, error: BaseException) -> Iterator[int]:
    yield from range(step)
    raise error


@pytest.mark.parametrize("ahead", [1, 3])
def test_items_come_out_in_order_and_complete(ahead: int) -> None:
    with prefetched(iter(range(200)), ahead=ahead) as items:
        assert list(items) == list(range(200))


def test_an_empty_iterator_givesnullcontext() -> None:
    with prefetched(iter([])) as items:
        assert list(items) == []


def test_the_next_item_is_produced_while_the_consumer_holds_this_one() -> None:
    source = Counting()
    for step in range(2):
        source.produced_event(step)  # made before the thread may look for them

    with prefetched(iter(source)) as items:
        assert next(items) == 0
        assert source.produced_event(1).wait(WAIT)  # without the consumer asking for it


@pytest.mark.parametrize("step", [0, 3])
def test_an_error_of_the_iterator_is_raised_after_the_earlier_items(step: int) -> None:
    error = ValueError(f"step {step} failed")
    received: list[int] = []

    with (
        pytest.raises(ValueError, match=f"step {step} failed") as raised,
        prefetched(failing_at(step, error)) as items,
    ):
        for item in items:
            received.append(item)

    assert raised.value is error
    assert received == list(range(step))


def test_an_interrupt_in_the_iterator_reaches_the_consumer() -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        prefetched(failing_at(2, KeyboardInterrupt())) as items,
    ):
        assert [next(items), next(items)] == [0, 1]
        next(items)


def _consume_then_leave(items: Iterator[int], count: int, how: str) -> None:
    for _ in range(count):
        next(items)
    if how == "raise":
        raise RuntimeError("the consumer failed")


@pytest.mark.parametrize("how", ["break", "raise"])
@pytest.mark.parametrize("ahead", [1, 4])
def test_leaving_early_stops_the_producer_and_ends_its_thread(how: str, ahead: int) -> None:
    source, consumed = Counting(), 3
    before = prefetch_threads()

    with (
        pytest.raises(RuntimeError) if how == "raise" else nullcontext(),
        prefetched(iter(source), ahead=ahead) as items,
    ):
        started = prefetch_threads() - before
        _consume_then_leave(items, consumed, how)

    assert len(started) == 1
    assert not any(thread.is_alive() for thread in started)
    assert prefetch_threads() == before
    assert source.produced <= consumed + ahead + 2


@pytest.mark.parametrize("how", ["break", "raise"])
def test_leaving_waits_for_a_producer_inside_a_slow_step(how: str) -> None:
    source = Counting(slow_step=2)
    before = prefetch_threads()

    with (
        pytest.raises(RuntimeError) if how == "raise" else nullcontext(),
        prefetched(iter(source)) as items,
    ):
        started = prefetch_threads() - before
        assert next(items) == 0
        assert source.in_slow_step.wait(WAIT)
        _consume_then_leave(items, 0, how)

    assert source.slow_step_done.is_set()  # the block did not return while it was still reading
    assert not any(thread.is_alive() for thread in started)
    assert source.produced <= 3


def test_a_completed_iteration_leaves_no_thread() -> None:
    before = prefetch_threads()

    with prefetched(iter(range(5))) as items:
        started = prefetch_threads() - before
        assert list(items) == [0, 1, 2, 3, 4]

    assert not any(thread.is_alive() for thread in started)
    assert prefetch_threads() == before
