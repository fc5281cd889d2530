"""What a POP3 sync needs, on a client from `pop3.session()`: the UIDL list, messages, DELE.

poplib's retr() gathers a message as a list of lines (a 50 MB message held twice over) and
refuses lines over 2,048 bytes, which real mail has. So `fetch_message_to()` sends RETR on
poplib's connection and reads the reply itself: line by line into a file, dot-unstuffed
(RFC 1939 3), at most LINE_PIECE bytes at a time whatever the line's length. The message
ends at the lone "."; a connection that ends before it is a ProtocolFailure, never a short
message.

DELE only marks: the server removes the messages at QUIT, which `pop3.session()` sends when
its block ends. A connection that breaks first removes nothing.
"""

import io
import poplib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from mailbox.protocols.errors import ActionRefused, ConnectFailed, ProtocolFailure, TimedOut
from mailbox.protocols.pop3 import Pop3Client

LINE_PIECE = 64 * 1024


@dataclass(frozen=True)
class Pop3Message:
    msgno: int  # valid for this session only
    uidl: str  # stable across sessions: the key a sync remembers
    size: int  # octets, as LIST reports them


@contextmanager
def _replies(client: Pop3Client, command: str) -> Iterator[None]:
    """poplib and socket failures as typed errors; a -ERR is ActionRefused in its words."""
    server = client.endpoint
    try:
        yield
    except poplib.error_proto as exc:
        reply = exc.args[0] if exc.args else b""
        if isinstance(reply, bytes):  # the server's -ERR line
            words = reply.decode("utf-8", "replace").removeprefix("-ERR").strip()
            raise ActionRefused(command, words) from exc
        raise ProtocolFailure(server.host, server.port, str(reply)) from exc
    except TimeoutError as exc:
        raise TimedOut(server.host, server.port) from exc
    except OSError as exc:
        raise ConnectFailed(server.host, server.port, exc.strerror or str(exc)) from exc


def list_uidls(client: Pop3Client) -> list[Pop3Message]:
    """Every message with its UIDL and size, by message number (UIDL + LIST)."""
    with _replies(client, "UIDL"):
        _, uidl_lines, _ = client.uidl()
    with _replies(client, "LIST"):
        _, list_lines, _ = client.list()
    sizes = dict(_pairs(client, list_lines))
    return [
        Pop3Message(msgno, uidl, int(sizes.get(msgno, "0")))
        for msgno, uidl in _pairs(client, uidl_lines)
    ]


def _pairs(client: Pop3Client, lines: list[bytes]) -> Iterator[tuple[int, str]]:
    """RFC 1939 scan listings, "msgno value" per line."""
    for line in lines:
        number, _, value = line.decode("utf-8", "replace").strip().partition(" ")
        if not number.isdigit() or not value:
            server = client.endpoint
            raise ProtocolFailure(server.host, server.port, f"not a listing line: {line!r}")
        yield int(number), value.strip()


def fetch_message(client: Pop3Client, msgno: int) -> bytes:
    """The whole message, bytes as the server keeps them (for small messages)."""
    buffer = io.BytesIO()
    fetch_message_to(client, msgno, buffer)
    return buffer.getvalue()


def fetch_message_to(client: Pop3Client, msgno: int, sink: BinaryIO) -> int:
    """Streams message `msgno` into `sink` (RETR); returns the bytes written. After an error
    `sink` may hold a part of the message: discard it."""
    with _replies(client, "RETR"):
        client.sock.sendall(f"RETR {int(msgno)}\r\n".encode())
        status = client.file.readline(LINE_PIECE)
        if not status.startswith(b"+OK"):
            raise poplib.error_proto(status.rstrip(b"\r\n") if status else "connection closed")
        return _copy_until_dot(client, sink)


def _copy_until_dot(client: Pop3Client, sink: BinaryIO) -> int:
    written, at_line_start = 0, True
    while True:
        piece = client.file.readline(LINE_PIECE)
        if not piece:
            raise poplib.error_proto("the connection closed before the message ended")
        if at_line_start and piece.startswith(b"."):
            if piece in (b".\r\n", b".\n"):
                return written
            piece = piece[1:]  # byte-stuffed: "..x" stands for ".x"
        sink.write(piece)
        written += len(piece)
        at_line_start = piece.endswith(b"\n")


def delete(client: Pop3Client, msgnos: Iterable[int]) -> None:
    """Marks messages for deletion; the server removes them at QUIT (the session's end)."""
    for msgno in msgnos:
        with _replies(client, "DELE"):
            client.dele(msgno)
