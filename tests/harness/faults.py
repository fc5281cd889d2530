"""The faults the fault proxy (tests/harness/faultproxy.py) can apply to a connection: each
sees the plaintext bytes of one direction and says what to forward and whether to cut."""

import re
from collections.abc import Callable
from typing import Literal

Direction = Literal["client_to_server", "server_to_client"]
C2S: Direction = "client_to_server"
S2C: Direction = "server_to_client"

FETCH_START = re.compile(rb"\* \d+ FETCH\b", re.IGNORECASE)
LITERAL_AT_END = re.compile(rb"~?\{(\d+)\+?\}\r?\n\Z")
DATA_END = b"\r\n.\r\n"


class Fault:
    """Per-connection state of a fault: decides what to forward and when to cut."""

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        """Returns (bytes to forward, cut the connection after forwarding them)."""
        return data, False


class CutAfter(Fault):
    def __init__(self, n_bytes: int, direction: Direction) -> None:
        self.remaining = n_bytes
        self.direction = direction

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        if direction != self.direction:
            return data, False
        if len(data) < self.remaining:
            self.remaining -= len(data)
            return data, False
        return data[: self.remaining], True


class CutInFetchLiteral(Fault):
    """Follows the server's lines and literals to find the first FETCH literal."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.line = bytearray()
        self.skip = 0  # bytes left in a literal we let through (not in a FETCH response)
        self.cut_in: int | None = None  # bytes left to forward before the cut
        self.response_start = True  # the next line starts a new response
        self.in_fetch = False

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        if direction != S2C:
            return data, False
        pos = 0
        while pos < len(data):
            if self.cut_in is not None:
                end = pos + min(self.cut_in, len(data) - pos)
                self.cut_in -= end - pos
                if self.cut_in == 0:
                    return data[:end], True
                pos = end
            elif self.skip:
                end = pos + min(self.skip, len(data) - pos)
                self.skip -= end - pos
                pos = end
            else:
                pos = self._read_line(data, pos)
        return data, self.cut_in == 0  # the literal starts right after this chunk

    def _read_line(self, data: bytes, start: int) -> int:
        end = data.find(b"\n", start)
        if end == -1:
            self.line += data[start:]
            return len(data)
        self.line += data[start : end + 1]
        line = bytes(self.line)
        self.line.clear()
        if self.response_start:
            self.in_fetch = bool(FETCH_START.match(line))
        literal = LITERAL_AT_END.search(line)
        self.response_start = literal is None
        if literal is not None:
            size = int(literal[1])
            if self.in_fetch:
                self.cut_in = min(self.after, size)
            else:
                self.skip = size
        return end + 1


class SwallowReplyAfterDataDot(Fault):
    def __init__(self) -> None:
        self.tail = b""
        self.dot_sent = False

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        if direction == S2C:
            # The server's reply to the end of data: drop it and hang up on the client.
            return (b"", True) if self.dot_sent else (data, False)
        if self.dot_sent:
            return b"", False
        window = self.tail + data
        found = window.find(DATA_END)
        if found == -1:
            self.tail = window[-(len(DATA_END) - 1) :]
            return data, False
        self.dot_sent = True
        return data[: found + len(DATA_END) - len(self.tail)], False


class HoldAfter(Fault):
    """Forwards up to n bytes one way; the chunk that passes n waits until `wait()` returns
    (the whole connection waits with it: one thread relays both directions)."""

    def __init__(self, n_bytes: int, direction: Direction, wait: Callable[[], None]) -> None:
        self.remaining = n_bytes
        self.direction = direction
        self.wait = wait

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        if direction == self.direction and self.remaining >= 0:
            self.remaining -= len(data)
            if self.remaining < 0:
                self.wait()
        return data, False


class HoldReplyAfterDataDot(Fault):
    """The end of data reaches the server (which takes the mail); its reply waits until
    `wait()` returns."""

    def __init__(self, wait: Callable[[], None]) -> None:
        self.tail = b""
        self.dot_sent = False
        self.wait = wait

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        if direction == C2S and not self.dot_sent:
            window = self.tail + data
            self.dot_sent = DATA_END in window
            self.tail = window[-(len(DATA_END) - 1) :]
        elif direction == S2C and self.dot_sent:
            self.dot_sent = False  # once per end of data
            self.wait()
        return data, False
