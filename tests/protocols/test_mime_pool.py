"""ParserPool: helpers parse exactly as this process would; a dead one costs only speed."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from mailbox.protocols import mime_pool
from mailbox.protocols.mime import Parsed, parse_body, parse_headers, parse_message
from mailbox.protocols.mime_pool import Kind, ParserPool, Pending
from tests.harness import messages
from tests.protocols.test_mime_fuzz import inputs

PROJECT = Path(__file__).resolve().parents[2]
CORPUS = PROJECT / "tests" / "fixtures" / "eml"
IN_PROCESS: dict[str, Callable[[bytes], Parsed]] = {
    "message": parse_message,
    "headers": parse_headers,
    "body": parse_body,
}
KINDS: tuple[Kind, ...] = ("message", "headers", "body")
PATIENCE = 30.0  # seconds for all the results of a test; a hang fails instead of blocking


def nested(depth: int) -> bytes:
    """multipart/mixed inside multipart/mixed, `depth` times, text at the bottom."""
    head = b"From: a@example.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % level for level in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nbottom\r\n" + closing


HOSTILE = [
    b"",
    b"no headers at all, just a line of text\r\n",
    b"\r\n\r\nbody after an empty header block",
    b"From: a@example.test\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\nno boundary\r\n",
    b"Subject: =?x-unknown-8bit?Q?caf=E9?=\r\nContent-Type: text/plain; charset=x-unknown-8bit"
    b"\r\n\r\ncaf\xe9 cr\xe8me\r\n",
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%=\r\n",
    b"\x00\xff\xfe\r\n\x00: \x00\r\n\r\n\x00",
    b"From: <@>, ,,\r\nDate: Mon, 99 Foo 99999 99:99:99 +9999\r\n\r\n",
    nested(60),
    nested(3000),
]


def corpus() -> list[bytes]:
    """Builder mail, the hand-written quirk corpus, hostile bytes and fuzzed inputs."""
    return [
        *messages.volume(40, seed=7),
        *messages.every_kind().values(),
        *[path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))],
        *HOSTILE,
        *inputs(seed=3, count=40),
    ]


def batches(raws: Sequence[bytes], sizes: Sequence[int]) -> Iterator[list[bytes]]:
    """`raws` cut into batches of the given sizes in turn (varied, so helpers get uneven work)."""
    start, turn = 0, 0
    while start < len(raws):
        size = sizes[turn % len(sizes)]
        yield list(raws[start : start + size])
        start, turn = start + size, turn + 1


def expected(kind: str, raws: Sequence[bytes]) -> list[Parsed]:
    return [IN_PROCESS[kind](raw) for raw in raws]


def results_within(pendings: Sequence[Pending], seconds: float = PATIENCE) -> list[list]:
    """Every pending's result(), in order, from a thread: fails (rather than hangs) if late."""
    found: list[list] = []
    worker = threading.Thread(target=lambda: found.extend(p.result() for p in pendings))
    worker.daemon = True
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"result() still waiting after {seconds}s"
    assert len(found) == len(pendings), "result() raised (see the thread's traceback above)"
    return found


def submit_all(pool: ParserPool, work: Sequence[tuple[Kind, list[bytes]]]) -> list[Pending]:
    return [pool.submit(kind, raws) for kind, raws in work]


def mixed_work(raws: Sequence[bytes]) -> list[tuple[Kind, list[bytes]]]:
    """The corpus in uneven batches, each kind of parse in turn."""
    return [(KINDS[i % 3], batch) for i, batch in enumerate(batches(raws, (7, 1, 13, 4)))]


def assert_parsed_as_here(
    work: Sequence[tuple[Kind, list[bytes]]], results: Sequence[list[Parsed]]
) -> None:
    assert len(results) == len(work)
    for (kind, raws), result in zip(work, results, strict=True):
        assert result == expected(kind, raws), kind


def forbid_parsing_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """After this, a result parsed in this process (not by a helper) raises."""

    def refuse(raw: bytes) -> Parsed:
        raise AssertionError("parsed in the test process, not by a helper")

    monkeypatch.setattr(mime_pool, "_PARSERS", dict.fromkeys(KINDS, refuse))


def kill(pool: ParserPool) -> None:
    for helper in pool.helpers:
        helper.process.kill()
        helper.process.wait(timeout=10)


def test_two_helpers_parse_every_batch_as_this_process_would_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = mixed_work(corpus())

    with ParserPool(2) as pool, monkeypatch.context() as patch:
        assert len(pool.helpers) == 2
        forbid_parsing_here(patch)  # the helpers already run the real parsers
        results = results_within(submit_all(pool, work))

        assert all(helper.alive for helper in pool.helpers)
    assert_parsed_as_here(work, results)


def test_a_batch_bigger_than_a_pipe_buffer_goes_through_both_ways() -> None:
    big = messages.plain_text(body="line of a long message\n" * 200_000)  # ~5 MB
    work = [(kind, [big, *messages.volume(30)]) for kind in ("message", "body", "message")]

    with ParserPool(2) as pool:
        results = results_within(submit_all(pool, work))

        assert all(helper.alive for helper in pool.helpers)
    assert_parsed_as_here(work, results)


def test_an_empty_batch_gives_an_empty_list() -> None:
    with ParserPool(1) as pool:
        assert results_within([pool.submit(kind, []) for kind in KINDS]) == [[], [], []]


def test_helpers_started_ahead_answer_the_first_batch_with_its_own_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """start() boots the helpers before a stage's first batch; its warm-up answers are never
    taken for a batch's."""
    work = mixed_work(corpus())

    with ParserPool(2) as pool, monkeypatch.context() as patch:
        pool.start("envelopes")
        pool.start("body")
        assert len(pool.helpers) == 2 and all(h.process.poll() is None for h in pool.helpers)
        forbid_parsing_here(patch)
        results = results_within(submit_all(pool, work))

    assert_parsed_as_here(work, results)


def test_starting_a_pool_without_helpers_does_nothing() -> None:
    with ParserPool(0) as pool:
        pool.start("body")
        assert pool.helpers == []
        assert results_within([pool.submit("body", [messages.plain_text()])]) == [
            expected("body", [messages.plain_text()])
        ]


def test_helpers_are_separate_processes_that_exit_with_the_pool() -> None:
    with ParserPool(2) as pool:
        results_within([pool.submit("message", [messages.plain_text()])])
        processes = [helper.process for helper in pool.helpers]

        assert len({process.pid for process in processes}) == 2
        assert os.getpid() not in {process.pid for process in processes}
        assert all(process.poll() is None for process in processes)

    assert [process.returncode for process in processes] == [0, 0]


def test_helpers_start_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[mime_pool._Helper | None] = []
    real_start = mime_pool._start

    def counting_start() -> mime_pool._Helper | None:
        started.append(real_start())
        return started[-1]

    monkeypatch.setattr(mime_pool, "_start", counting_start)

    with ParserPool(2) as pool:
        assert started == []
        results_within([pool.submit("headers", [messages.plain_text()])])

        assert len(started) == 2


def test_helpers_killed_before_the_first_batch_leave_the_parsing_here() -> None:
    work = mixed_work(corpus())

    with ParserPool(2) as pool:
        kill(pool)
        results = results_within(submit_all(pool, work))

        assert not any(helper.alive for helper in pool.helpers)
    assert_parsed_as_here(work, results)


def test_one_helper_killed_between_batches_leaves_its_share_to_the_other() -> None:
    work = mixed_work(corpus())
    half = len(work) // 2

    with ParserPool(2) as pool:
        first = results_within(submit_all(pool, work[:half]))
        pool.helpers[0].process.kill()
        pool.helpers[0].process.wait(timeout=10)
        second = results_within(submit_all(pool, work[half:]))

        assert [helper.alive for helper in pool.helpers] == [False, True]
    assert_parsed_as_here(work, first + second)


def test_helpers_killed_with_batches_in_flight_still_give_every_result() -> None:
    work = mixed_work(corpus())

    with ParserPool(2) as pool:
        pendings = submit_all(pool, work[:6])
        kill(pool)
        pendings += submit_all(pool, work[6:])
        results = results_within(pendings)
    assert_parsed_as_here(work, results)


def test_a_helper_that_stops_answering_is_given_up_on_and_its_batches_parsed_here() -> None:
    """A stopped helper (as if hung) neither blocks the sending of big batches nor the
    results: after the answer time-out it is killed and the rest is parsed in this process."""
    big = [messages.plain_text(body="line of text\n" * 250_000)]  # more than a pipe holds
    work: list[tuple[Kind, list[bytes]]] = [("message", big), *mixed_work(corpus())[:6]]

    with ParserPool(1, answer_timeout=0.5) as pool:
        stopped = pool.helpers[0].process
        os.kill(stopped.pid, signal.SIGSTOP)
        started = time.monotonic()
        results = results_within(submit_all(pool, work))
        waited = time.monotonic() - started

    assert_parsed_as_here(work, results)
    assert stopped.poll() is not None  # killed, not left stopped
    assert waited < PATIENCE / 2


def test_a_killed_helper_does_not_hold_up_the_pools_close() -> None:
    pool = ParserPool(2)
    pool.submit("message", [messages.plain_text()])  # left unanswered on purpose
    kill(pool)
    closing = threading.Thread(target=pool.close, daemon=True)

    closing.start()
    closing.join(PATIENCE)

    assert not closing.is_alive()


# A process that starts a pool, says its helper's pid, then waits to be killed.
ORPHANING = """
import sys, time
sys.path.insert(0, sys.argv[1])
from mailbox.protocols.mime_pool import ParserPool
pool = ParserPool(1)
pool.submit("headers", [b"Subject: hello\\r\\n\\r\\n"]).result()
print(pool.helpers[0].process.pid, flush=True)
time.sleep(60)
"""


def gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return gone(pid)


def test_a_helper_ends_when_the_process_that_started_it_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHANING, str(PROJECT)], stdout=subprocess.PIPE
    )
    helper_pid = int(parent.stdout.readline())  # type: ignore[union-attr]
    parent.kill()
    parent.wait(timeout=10)
    parent.stdout.close()  # type: ignore[union-attr]

    try:
        assert wait_gone(helper_pid, 10), "the helper outlived the process that started it"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(helper_pid, signal.SIGKILL)


def refuse_to_start(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
    raise PermissionError("no processes for you")


def popen_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mime_pool.subprocess, "Popen", refuse_to_start)


def python_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mime_pool.sys, "executable", "/nonexistent/python3")


@pytest.mark.parametrize("patch", [popen_raises, python_missing])
def test_helpers_that_cannot_start_leave_the_parsing_here(
    monkeypatch: pytest.MonkeyPatch, patch: Callable[[pytest.MonkeyPatch], None]
) -> None:
    work = mixed_work(corpus())
    patch(monkeypatch)

    with ParserPool(2) as pool:
        results = results_within(submit_all(pool, work))

        assert pool.helpers == []
    assert_parsed_as_here(work, results)


def test_a_helper_that_exits_at_once_leaves_the_parsing_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It started (Popen succeeded) but is not our parser: `false` ends without a word."""
    monkeypatch.setattr(mime_pool.sys, "executable", "/bin/false")
    work = mixed_work(corpus())

    with ParserPool(2) as pool:
        results = results_within(submit_all(pool, work))
    assert_parsed_as_here(work, results)


def test_a_pool_of_no_workers_parses_here_and_starts_no_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mime_pool.subprocess, "Popen", refuse_to_start)
    monkeypatch.setattr(mime_pool, "_start", lambda: pytest.fail("a helper was started"))
    work = mixed_work(corpus())

    with ParserPool(0) as pool:
        results = results_within(submit_all(pool, work))

        assert pool.helpers == []
    assert_parsed_as_here(work, results)


def deeper(frames: int, call: Callable[[], Parsed]) -> Parsed:
    """`call()` with `frames` more frames on the stack, as under a Celery task's."""
    return call() if frames == 0 else deeper(frames - 1, call)


def test_a_message_nested_near_the_recursion_limit_parses_the_same_here_and_in_a_helper() -> None:
    raw = nested(960)

    with ParserPool(1) as pool:
        [[in_helper]] = results_within([pool.submit("message", [raw])])
    here = deeper(100, lambda: parse_message(raw))

    assert here == in_helper
    assert any(problem.startswith("too-deep") for problem in here.problems)
