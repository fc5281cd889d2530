"""Does a mail server answer here, over verified TLS? Greetings only, never credentials.

Implicit-TLS ports are wrapped first and then greeted. STARTTLS ports are greeted in plain
text, asked for their capabilities, upgraded, and count only once the certificate is
verified; bytes that arrive after the server's "go ahead" and before the handshake are
refused (the STARTTLS command-injection trick).
"""

import contextlib
import socket
import ssl
import time

from mailbox.protocols import net
from mailbox.protocols.errors import ConnectFailed, ProtocolFailure, TimedOut, TlsUnavailable
from mailbox.protocols.types import NetworkPolicy, Protocol, Security, Server

MAX_LINE = 4096  # bytes; greetings and capability lines are far shorter
MAX_TOTAL = 65536  # bytes read on one connection before we give up on it


class Lines:
    """Reads CRLF lines from a socket within an absolute time limit and a byte budget."""

    def __init__(self, sock: socket.socket, server: Server, until: float) -> None:
        self.sock, self.server, self.until = sock, server, until
        self._buffer = b""
        self._total = 0

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise self._error(exc) from exc

    def line(self) -> bytes:
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE or self._total > MAX_TOTAL:
                raise self.failure("overlong reply")
            self._buffer += self._recv()
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def is_drained(self) -> bool:
        return not self._buffer

    def _recv(self) -> bytes:
        remaining = self.until - time.monotonic()
        if remaining <= 0:
            raise TimedOut(self.server.host, self.server.port)
        try:
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(4096)
        except OSError as exc:
            raise self._error(exc) from exc
        if not chunk:
            raise self.failure("the connection was closed")
        self._total += len(chunk)
        return chunk

    def failure(self, reason: str) -> ProtocolFailure:
        return ProtocolFailure(self.server.host, self.server.port, reason)

    def no_tls(self) -> TlsUnavailable:
        return TlsUnavailable(self.server.host, self.server.port)

    def _error(self, exc: OSError) -> Exception:
        if isinstance(exc, TimeoutError):
            return TimedOut(self.server.host, self.server.port)
        reason = exc.reason if isinstance(exc, ssl.SSLError) else exc.strerror
        return ConnectFailed(self.server.host, self.server.port, reason or type(exc).__name__)


def probe(protocol: Protocol, server: Server, policy: NetworkPolicy) -> None:
    """Returns when `server` greeted as a `protocol` server behind a verified certificate.

    Raises a MailProtocolError otherwise. The whole probe takes at most `policy.timeout`
    for each of connecting, the handshake and the conversation.
    """
    if server.security is Security.NONE:
        raise ValueError("discovery never probes unencrypted servers")
    sock: socket.socket = net.connect(server.host, server.port, policy)
    try:
        if server.security is Security.TLS:
            sock = net.wrap(sock, server.host, server.port, policy)
            lines = Lines(sock, server, time.monotonic() + policy.timeout)
            GREET[protocol](lines)
        else:
            lines = Lines(sock, server, time.monotonic() + policy.timeout)
            GREET[protocol](lines)
            START_TLS[protocol](lines)
            if not lines.is_drained():
                raise lines.failure("data arrived before the TLS handshake")
            sock = net.wrap(sock, server.host, server.port, policy)
            lines = Lines(sock, server, time.monotonic() + policy.timeout)
        _say_goodbye(protocol, lines)
    finally:
        sock.close()


# -- IMAP ------------------------------------------------------------------------------------


def _imap_greet(lines: Lines) -> None:
    if not lines.line().upper().startswith(b"* OK"):
        raise lines.failure("not an IMAP greeting")


def _imap_starttls(lines: Lines) -> None:
    lines.send(b"d1 CAPABILITY\r\n")
    capabilities = _imap_tagged(lines, b"d1")
    if b"STARTTLS" not in capabilities:
        raise lines.no_tls()
    lines.send(b"d2 STARTTLS\r\n")
    _imap_tagged(lines, b"d2")


def _imap_tagged(lines: Lines, tag: bytes) -> set[bytes]:
    """Reads up to the tagged OK; returns the words of untagged CAPABILITY lines."""
    words: set[bytes] = set()
    while True:
        line = lines.line()
        upper = line.upper()
        if upper.startswith(b"* CAPABILITY "):
            words.update(upper.split()[2:])
        elif upper.startswith(tag.upper() + b" "):
            if not upper.startswith(tag.upper() + b" OK"):
                raise lines.failure(f"refused: {line[:200]!r}")
            return words


# -- POP3 ------------------------------------------------------------------------------------


def _pop3_greet(lines: Lines) -> None:
    if not lines.line().startswith(b"+OK"):
        raise lines.failure("not a POP3 greeting")


def _pop3_starttls(lines: Lines) -> None:
    lines.send(b"CAPA\r\n")
    if not lines.line().startswith(b"+OK"):
        raise lines.failure("CAPA was refused")
    capabilities: set[bytes] = set()
    while (line := lines.line()) != b".":
        capabilities.add(line.split(b" ")[0].upper())
    if b"STLS" not in capabilities:
        raise lines.no_tls()
    lines.send(b"STLS\r\n")
    if not lines.line().startswith(b"+OK"):
        raise lines.failure("STLS was refused")


# -- SMTP ------------------------------------------------------------------------------------


def _smtp_reply(lines: Lines) -> tuple[bytes, list[bytes]]:
    """(code, text lines) of a possibly multi-line reply such as "250-..." ... "250 ..."."""
    texts: list[bytes] = []
    while True:
        line = lines.line()
        code, more, text = line[:3], line[3:4], line[4:]
        if not code.isdigit():
            raise lines.failure("not an SMTP reply")
        texts.append(text)
        if more != b"-":
            return code, texts


def _smtp_greet(lines: Lines) -> None:
    if _smtp_reply(lines)[0] != b"220":
        raise lines.failure("not an SMTP greeting")


def _smtp_starttls(lines: Lines) -> None:
    lines.send(b"EHLO " + _ehlo_name(lines.sock) + b"\r\n")
    code, texts = _smtp_reply(lines)
    if code != b"250":
        raise lines.failure("EHLO was refused")
    if not any(text.upper().split(b" ")[0] == b"STARTTLS" for text in texts[1:]):
        raise lines.no_tls()
    lines.send(b"STARTTLS\r\n")
    if _smtp_reply(lines)[0] != b"220":
        raise lines.failure("STARTTLS was refused")


def _ehlo_name(sock: socket.socket) -> bytes:
    # An address literal for our own end: valid per RFC 5321 and tells nothing new.
    address = sock.getsockname()[0]
    return (f"[IPv6:{address}]" if ":" in address else f"[{address}]").encode()


GREET = {Protocol.IMAP: _imap_greet, Protocol.POP3: _pop3_greet, Protocol.SMTP: _smtp_greet}
START_TLS = {
    Protocol.IMAP: _imap_starttls,
    Protocol.POP3: _pop3_starttls,
    Protocol.SMTP: _smtp_starttls,
}
GOODBYE = {Protocol.IMAP: b"d3 LOGOUT\r\n", Protocol.POP3: b"QUIT\r\n", Protocol.SMTP: b"QUIT\r\n"}


def _say_goodbye(protocol: Protocol, lines: Lines) -> None:
    # Politeness only: the probe has already succeeded, so a failure here changes nothing.
    with contextlib.suppress(Exception):
        lines.send(GOODBYE[protocol])
