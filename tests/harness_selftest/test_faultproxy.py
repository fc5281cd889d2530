"""The fault proxy, against tiny IMAP and SMTP fakes, in plaintext, implicit TLS and STARTTLS."""

import contextlib
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest

from tests.harness.certs import TestCA
from tests.harness.faultproxy import FaultProxy
from tests.harness.faults import C2S, S2C, CutInFetchLiteral, SwallowReplyAfterDataDot

LITERAL = bytes(range(33, 127)) * 20  # 1880 bytes of message "body"
GREETING = b"* OK fake IMAP ready\r\n"


def fetch_header(literal: bytes) -> bytes:
    return b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(literal)


def fetch_response(literal: bytes) -> bytes:
    return fetch_header(literal) + literal + b")\r\na1 OK FETCH done\r\n"


FETCH_HEADER = fetch_header(LITERAL)
FETCH_RESPONSE = fetch_response(LITERAL)
LOGOUT_RESPONSE = b"* BYE\r\na2 OK LOGOUT done\r\n"
IMAP_COMMANDS = b"a1 FETCH 1 BODY[]\r\na2 LOGOUT\r\n"
MESSAGE = b"Subject: hello\r\n\r\nA line.\r\n.leading dot\r\n"

Handler = Callable[[socket.socket, "FakeServer"], None]


class FakeServer:
    """A threaded TCP server on 127.0.0.1 whose `handler` speaks the protocol."""

    def __init__(self, handler: Handler, context: ssl.SSLContext) -> None:
        self.handler = handler
        self.context = context  # for implicit TLS (`tls=True`) and STARTTLS
        self.tls = False
        self.literal = LITERAL  # what the IMAP fake's FETCH returns
        self.received = bytearray()  # what the sink handler got
        self.sink_closed = threading.Event()  # the sink saw the peer end the connection
        self.delivered: list[tuple[bytes, bool]] = []  # SMTP messages, and whether over TLS
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)

    def start(self, tls: bool = False) -> "FakeServer":
        self.tls = tls
        self._accept.start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._session, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _session(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            conn.settimeout(5)
            if self.tls:
                conn = self.context.wrap_socket(conn, server_side=True)
            self.handler(conn, self)
        conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
        for thread in [self._accept, *self._threads]:
            thread.join(timeout=5)


def imap_handler(conn: socket.socket, server: FakeServer) -> None:
    conn.sendall(GREETING)
    lines = conn.makefile("rb")
    while line := lines.readline():
        tag, _, command = line.rstrip(b"\r\n").partition(b" ")
        verb = command.split(b" ")[0].upper()
        if verb == b"FETCH":
            conn.sendall(fetch_response(server.literal))
        elif verb == b"LOGOUT":
            conn.sendall(LOGOUT_RESPONSE)
            return
        elif verb == b"STARTTLS":
            conn.sendall(b"* OK untagged noise\r\n" + tag + b" OK Begin TLS\r\n")
            conn = server.context.wrap_socket(conn, server_side=True)
            lines = conn.makefile("rb")
        else:
            conn.sendall(tag + b" OK\r\n")


def smtp_handler(conn: socket.socket, server: FakeServer) -> None:
    conn.sendall(b"220 fake ESMTP\r\n")
    lines = conn.makefile("rb")
    tls = server.tls
    while line := lines.readline():
        verb = line[:4].upper()
        if verb == b"EHLO":
            offer = b"" if tls else b"250-STARTTLS\r\n"
            conn.sendall(b"250-fake\r\n" + offer + b"250 8BITMIME\r\n")
        elif verb == b"STAR":
            conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            conn = server.context.wrap_socket(conn, server_side=True)
            lines, tls = conn.makefile("rb"), True
        elif verb == b"DATA":
            conn.sendall(b"354 go ahead\r\n")
            body = bytearray()
            while (data_line := lines.readline()) not in (b".\r\n", b""):
                body += data_line
            server.delivered.append((bytes(body), tls))
            conn.sendall(b"250 2.0.0 queued as 42\r\n")
        elif verb == b"QUIT":
            conn.sendall(b"221 bye\r\n")
            return
        else:
            conn.sendall(b"250 OK\r\n")


def sink_handler(conn: socket.socket, server: FakeServer) -> None:
    while data := conn.recv(65536):
        server.received += data
    server.sink_closed.set()


@pytest.fixture
def fake_server(test_ca: TestCA) -> Iterator[Callable[..., FakeServer]]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    files = test_ca.issue("fake-server")
    context.load_cert_chain(files.cert, files.key)
    servers: list[FakeServer] = []

    def make(handler: Handler, tls: bool = False) -> FakeServer:
        server = FakeServer(handler, context)
        servers.append(server)
        return server.start(tls)

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def client_context(test_ca: TestCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(test_ca.ca_file))


def _connect(proxy: FaultProxy, context: ssl.SSLContext | None = None) -> socket.socket:
    sock = socket.create_connection((proxy.host, proxy.port), timeout=2)
    return context.wrap_socket(sock, server_hostname=proxy.host) if context else sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = bytearray()
    with contextlib.suppress(ConnectionResetError, ssl.SSLError):
        while chunk := sock.recv(65536):
            data += chunk
    return bytes(data)


def _imap_exchange(proxy: FaultProxy, context: ssl.SSLContext | None = None) -> bytes:
    with _connect(proxy, context) as sock:
        sock.sendall(IMAP_COMMANDS)
        return _read_until_closed(sock)


TLS_MODES = pytest.mark.parametrize("tls", [None, "implicit"], ids=["plain", "implicit-tls"])


@TLS_MODES
def test_passes_through_and_counts(
    fault_proxy: Callable[..., FaultProxy],
    fake_server: Callable[..., FakeServer],
    client_context: ssl.SSLContext,
    tls: str | None,
) -> None:
    server = fake_server(imap_handler, tls=tls is not None)
    proxy = fault_proxy("127.0.0.1", server.port, tls=tls)
    received = _imap_exchange(proxy, client_context if tls else None)
    assert received == GREETING + FETCH_RESPONSE + LOGOUT_RESPONSE
    assert proxy.connections == 1
    assert proxy.bytes_server_to_client == len(received)  # plaintext, even over TLS
    assert proxy.bytes_client_to_server == len(IMAP_COMMANDS)
    assert proxy.faults_fired == 0


def test_large_literal_through_tls_arrives_intact(
    fault_proxy: Callable[..., FaultProxy],
    fake_server: Callable[..., FakeServer],
    client_context: ssl.SSLContext,
) -> None:
    server = fake_server(imap_handler, tls=True)
    server.literal = bytes(range(256)) * 12_000  # 3 MB: many TLS records, full socket buffers
    proxy = fault_proxy("127.0.0.1", server.port, tls="implicit")
    received = _imap_exchange(proxy, client_context)
    assert received == GREETING + fetch_response(server.literal) + LOGOUT_RESPONSE


@TLS_MODES
def test_cut_in_fetch_literal(
    fault_proxy: Callable[..., FaultProxy],
    fake_server: Callable[..., FakeServer],
    client_context: ssl.SSLContext,
    tls: str | None,
) -> None:
    server = fake_server(imap_handler, tls=tls is not None)
    proxy = fault_proxy("127.0.0.1", server.port, tls=tls)
    proxy.cut_in_fetch_literal(after=100)
    received = _imap_exchange(proxy, client_context if tls else None)
    assert received == GREETING + FETCH_HEADER + LITERAL[:100]
    assert proxy.faults_fired == 1


def test_cut_after_server_to_client(
    fault_proxy: Callable[..., FaultProxy], fake_server: Callable[..., FakeServer]
) -> None:
    proxy = fault_proxy("127.0.0.1", fake_server(imap_handler).port)
    proxy.cut_after(len(GREETING) + 5, direction=S2C)
    assert _imap_exchange(proxy) == GREETING + FETCH_RESPONSE[:5]
    assert proxy.bytes_server_to_client == len(GREETING) + 5


def test_cut_after_client_to_server(
    fault_proxy: Callable[..., FaultProxy], fake_server: Callable[..., FakeServer]
) -> None:
    server = fake_server(sink_handler)
    proxy = fault_proxy("127.0.0.1", server.port)
    proxy.cut_after(7, direction=C2S)
    with _connect(proxy) as sock:
        sock.sendall(b"0123456789")
        assert _read_until_closed(sock) == b""
    # The sink reads to the end first: close()'s shutdown would drop bytes not yet read.
    assert server.sink_closed.wait(5)
    server.close()
    assert bytes(server.received) == b"0123456"


def test_fault_limited_to_some_times_then_mode_changes(
    fault_proxy: Callable[..., FaultProxy], fake_server: Callable[..., FakeServer]
) -> None:
    proxy = fault_proxy("127.0.0.1", fake_server(imap_handler).port)
    complete = GREETING + FETCH_RESPONSE + LOGOUT_RESPONSE
    proxy.cut_in_fetch_literal(after=0, times=1)
    assert _imap_exchange(proxy) == GREETING + FETCH_HEADER
    assert _imap_exchange(proxy) == complete  # the retry gets through
    proxy.cut_after(3)
    assert _imap_exchange(proxy) == GREETING[:3]
    proxy.pass_through()
    assert _imap_exchange(proxy) == complete
    assert (proxy.connections, proxy.faults_fired) == (4, 2)


@TLS_MODES
def test_swallow_reply_after_data_dot(
    fault_proxy: Callable[..., FaultProxy],
    fake_server: Callable[..., FakeServer],
    client_context: ssl.SSLContext,
    tls: str | None,
) -> None:
    server = fake_server(smtp_handler, tls=tls is not None)
    proxy = fault_proxy("127.0.0.1", server.port, tls=tls)
    proxy.swallow_reply_after_data_dot()
    if tls:
        client = smtplib.SMTP_SSL(proxy.host, proxy.port, timeout=2, context=client_context)
    else:
        client = smtplib.SMTP(proxy.host, proxy.port, timeout=2)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    client.close()
    assert [body for body, _ in server.delivered] == [MESSAGE.replace(b"\r\n.lead", b"\r\n..lead")]
    assert proxy.faults_fired == 1


def test_starttls_smtp_upgrades_both_sides(
    fault_proxy: Callable[..., FaultProxy],
    fake_server: Callable[..., FakeServer],
    client_context: ssl.SSLContext,
) -> None:
    server = fake_server(smtp_handler)
    proxy = fault_proxy("127.0.0.1", server.port, tls="starttls")
    with smtplib.SMTP(proxy.host, proxy.port, timeout=2) as client:
        client.starttls(context=client_context)
        client.sendmail("a@example.test", ["b@example.test"], MESSAGE)
        assert isinstance(client.sock, ssl.SSLSocket)
    proxy.swallow_reply_after_data_dot()  # faults see the plaintext inside TLS
    client = smtplib.SMTP(proxy.host, proxy.port, timeout=2)
    client.starttls(context=client_context)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    client.close()
    assert [tls for _, tls in server.delivered] == [True, True]
    assert proxy.bytes_client_to_server > 2 * len(MESSAGE)


def test_starttls_imap_then_cut_in_literal(
    fault_proxy: Callable[..., FaultProxy],
    fake_server: Callable[..., FakeServer],
    client_context: ssl.SSLContext,
) -> None:
    proxy = fault_proxy("127.0.0.1", fake_server(imap_handler).port, tls="starttls")
    proxy.cut_in_fetch_literal(after=10)
    with _connect(proxy) as plain:
        assert plain.recv(100) == GREETING
        plain.sendall(b"s1 STARTTLS\r\n")
        reply = b""
        while not reply.endswith(b"s1 OK Begin TLS\r\n"):
            reply += plain.recv(100)
        with client_context.wrap_socket(plain, server_hostname=proxy.host) as sock:
            sock.sendall(IMAP_COMMANDS)
            assert _read_until_closed(sock) == FETCH_HEADER + LITERAL[:10]


def test_close_cuts_live_connections_and_stops_listening(
    fake_server: Callable[..., FakeServer],
) -> None:
    proxy = FaultProxy("127.0.0.1", fake_server(imap_handler).port).start()
    with _connect(proxy) as sock:
        assert sock.recv(100) == GREETING
        proxy.close()
        assert _read_until_closed(sock) == b""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((proxy.host, proxy.port), timeout=1)


def test_tls_needs_the_ca() -> None:
    with pytest.raises(ValueError, match="CA"):
        FaultProxy("127.0.0.1", 1, tls="implicit")


def _feed_in_pieces(fault: CutInFetchLiteral, stream: bytes, size: int) -> tuple[bytes, bool]:
    out = bytearray()
    for start in range(0, len(stream), size):
        chunk, cut = fault.feed(S2C, stream[start : start + size])
        out += chunk
        if cut:
            return bytes(out), True
    return bytes(out), False


@pytest.mark.parametrize("size", [1, 2, 7, 10_000])
def test_fetch_literal_parser_skips_other_literals(size: int) -> None:
    # A LIST literal whose content looks like a FETCH line must not be mistaken for one.
    decoy = b"* 9 FETCH (BODY[] {3}\r\n"
    before = (
        b'* LIST () "/" {%d}\r\n' % len(decoy)
        + decoy
        + b"\r\n* 1 FETCH (FLAGS (\\Seen))\r\n"
        + b"* 2 fetch (UID 9 BODY[HEADER] {10}\r\n"
    )
    stream = before + b"0123456789 BODY[TEXT] {5}\r\nabcde)\r\n"
    assert _feed_in_pieces(CutInFetchLiteral(after=4), stream, size) == (before + b"0123", True)
    # `after` beyond the literal: the whole literal goes through, then the cut.
    assert _feed_in_pieces(CutInFetchLiteral(after=99), stream, size) == (
        before + b"0123456789",
        True,
    )


@pytest.mark.parametrize(
    "chunks",
    [
        [b"DATA\r\n", b"body\r\n.\r\n", b"QUIT\r\n"],
        [b"DATA\r\n", b"body\r\n", b".", b"\r\n"],
        [b"DATA\r\n", b".\r\n"],  # an empty message
    ],
)
def test_data_dot_detection_across_chunks(chunks: list[bytes]) -> None:
    fault = SwallowReplyAfterDataDot()
    assert fault.feed(S2C, b"354 go ahead\r\n") == (b"354 go ahead\r\n", False)
    forwarded = b"".join(fault.feed(C2S, chunk)[0] for chunk in chunks)
    assert forwarded.endswith(b"\r\n.\r\n") and b"QUIT" not in forwarded
    assert fault.feed(S2C, b"250 queued\r\n") == (b"", True)
