"""MIME parsing in helper processes, so a sync uses a second core while it fetches and stores.

The standard `email` parser is pure Python and most of a first sync's work (see
benchmarks/sync_first.py); one process cannot parse while it also waits on IMAP and writes to
the database. `ParserPool` starts `workers` helper interpreters (plain subprocesses running
`serve()`: a Celery prefork child may not start multiprocessing children) and hands each batch
to the next one; `result()` gives a batch's results in the order asked. A batch is of one
kind: raw messages to parse whole, as header blocks or for their bodies, or header-fields
FETCH replies to read into envelopes (imap_envelopes).

Frames on the pipes are a 4-byte length and a pickle: the helpers are our own children, fed
only by this process. A helper that dies (or never started) costs nothing but speed: its
batches are parsed here instead. Each helper ends when its input closes, so one left behind
by a killed worker goes with it.
"""

import contextlib
import fcntl
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal

from mailbox.protocols.mime import parse_body, parse_headers, parse_message

Kind = Literal["message", "headers", "body", "envelopes"]


def _read_envelopes(reply: Any) -> Any:
    # Imported on first use: the IMAP modules cost a helper that only parses their start-up.
    from mailbox.protocols.imap_envelopes import read_envelopes

    return read_envelopes(reply)


def _get_ready(kind: Kind) -> None:
    """What a helper does with an empty batch: imports what `kind` needs (ParserPool.start)."""
    if kind == "envelopes":
        import mailbox.protocols.imap_envelopes  # noqa: F401, PLC0415


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "message": parse_message,
    "headers": parse_headers,
    "body": parse_body,
    "envelopes": _read_envelopes,
}
_LENGTH = struct.Struct("!I")
PIPE_BYTES = 1024 * 1024
# A batch's answer not back by then (a parse takes milliseconds a message): the helper is
# given up on and the batch parsed here.
ANSWER_TIMEOUT = 120.0
_PROJECT = Path(__file__).resolve().parents[2]
# Run by the helper: the project first on the path, so `mailbox` is ours, not the stdlib's.
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "import mailbox.protocols.mime_pool as pool; pool.serve()"
)


class Pending:
    """A batch handed to the pool; `result()` waits for its results (ParsedMessages, or each
    reply's envelopes)."""

    def __init__(
        self, kind: Kind, raws: Sequence[Any], helper: "_Helper | None", timeout: float
    ) -> None:
        self._kind, self._raws, self._helper, self._timeout = kind, raws, helper, timeout
        self._answer: queue.Queue[list[Any] | None] = queue.Queue(maxsize=1)

    def result(self) -> list[Any]:
        parsed = None
        if self._helper is not None:
            try:
                parsed = self._answer.get(timeout=self._timeout)
            except queue.Empty:
                self._helper.give_up()
        if parsed is None:  # no helper, it died or it hangs: parse here
            parsed = [_PARSERS[self._kind](raw) for raw in self._raws]
        self._raws = ()
        return parsed


class ParserPool:
    def __init__(self, workers: int, *, answer_timeout: float = ANSWER_TIMEOUT) -> None:
        self._workers, self._helpers, self._turn = workers, None, 0
        self._answer_timeout = answer_timeout

    @property
    def helpers(self) -> list["_Helper"]:
        """Started on first use: a sync with little to parse never pays for them."""
        if self._helpers is None:
            self._helpers = [h for h in (_start() for _ in range(self._workers)) if h]
        return self._helpers

    def start(self, kind: Kind) -> None:
        """Starts the helpers now, ready for batches of `kind`, so that they boot while the
        first batch is fetched rather than after (~0.15 s for envelopes: an interpreter, then
        the IMAP modules)."""
        for helper in self.helpers:
            if helper.alive:
                helper.send(Pending(kind, [], helper, self._answer_timeout), _frame(kind, []))

    def submit(self, kind: Kind, raws: Sequence[Any]) -> Pending:
        helper = self._next_helper()
        pending = Pending(kind, raws, helper, self._answer_timeout)
        if helper is not None:
            helper.send(pending, _frame(kind, raws))
        return pending

    def _next_helper(self) -> "_Helper | None":
        alive = [helper for helper in self.helpers if helper.alive]
        if not alive:
            return None
        self._turn = (self._turn + 1) % len(alive)
        return alive[self._turn]

    def close(self) -> None:
        for helper in self._helpers or ():
            helper.close()

    def __enter__(self) -> "ParserPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Helper:
    """One helper process, with a thread writing its requests and one reading its answers, so
    that neither this process nor the helper waits on the other to empty a pipe, and a helper
    that stops answering costs a time-out, never a hang."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process, self.alive = process, True
        self._waiting: queue.Queue[Pending | None] = queue.Queue()
        self._outbox: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_answers, daemon=True)
        self._writer = threading.Thread(target=self._write_requests, daemon=True)
        self._reader.start()
        self._writer.start()

    def send(self, pending: Pending, frame: bytes) -> None:
        self._waiting.put(pending)
        self._outbox.put(frame)

    def _write_requests(self) -> None:
        while (frame := self._outbox.get()) is not None:
            try:
                _write_frame(self.process.stdin, frame)  # type: ignore[arg-type]
            except (OSError, ValueError):  # died or given up on: the reader answers "parse here"
                return

    def give_up(self) -> None:
        """It did not answer in time: no more batches for it, and it goes."""
        self.alive = False
        with contextlib.suppress(OSError):
            self.process.kill()

    def _read_answers(self) -> None:
        while (pending := self._waiting.get()) is not None:
            answer = None
            if self.alive:
                frame = _read_frame(self.process.stdout)  # type: ignore[arg-type]
                answer = pickle.loads(frame) if frame is not None else None  # noqa: S301 (our own child)
                self.alive = answer is not None
            pending._answer.put(answer)

    def close(self) -> None:
        self._outbox.put(None)
        self._writer.join(timeout=5)
        if self.process.stdin:
            with contextlib.suppress(OSError):  # a dead helper's pipe
                self.process.stdin.close()
        self._waiting.put(None)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


def _frame(kind: Kind, raws: Sequence[Any]) -> bytes:
    return pickle.dumps((kind, list(raws)), protocol=5)


def _start() -> "_Helper | None":
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(_PROJECT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
    except OSError:
        return None
    for pipe in (process.stdin, process.stdout):
        _widen(pipe)
    return _Helper(process)


def _widen(pipe: BinaryIO | None) -> None:
    """A pipe of 1 MiB rather than 64 KiB (Linux): a batch is then written in one go, and
    this process does not wait for the helper (busy parsing) to read it piece by piece."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if pipe is None or set_size is None:
        return
    with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep the default
        fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)


def _write_frame(stream: BinaryIO, frame: bytes) -> None:
    stream.write(_LENGTH.pack(len(frame)))
    stream.write(frame)
    stream.flush()


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(header)
    frame = stream.read(length)
    return frame if len(frame) == length else None


def serve() -> None:
    """The helper's loop: (kind, raws) in, [ParsedMessage] out, until its input ends.

    Requests are read ahead by a thread, so the parent's writes never wait on a parse. The
    answers get the real stdout; anything else printed goes to stderr, not into a frame."""
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inbox: queue.Queue[bytes | None] = queue.Queue()

    def read_ahead() -> None:
        while (frame := _read_frame(requests)) is not None:
            inbox.put(frame)
        inbox.put(None)

    threading.Thread(target=read_ahead, daemon=True).start()
    while (frame := inbox.get()) is not None:
        kind, raws = pickle.loads(frame)  # noqa: S301 (from the parent that started us)
        if not raws:
            _get_ready(kind)
        parse = _PARSERS[kind]
        _write_frame(answers, pickle.dumps([parse(raw) for raw in raws], protocol=5))
    answers.close()
