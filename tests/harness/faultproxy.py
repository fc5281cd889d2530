"""A loopback TCP proxy that breaks IMAP and SMTP connections on purpose.

It sits in front of `target_host:target_port` and relays bytes, unless a fault is set:

- `cut_after(n, direction)`: forward n bytes in that direction, then close both sides;
- `cut_in_fetch_literal(after=k)`: close k bytes into the first literal of an IMAP FETCH
  response (`* 3 FETCH (... BODY[] {2048}` + CRLF);
- `swallow_reply_after_data_dot()`: let the SMTP end-of-data `.` reach the server (which
  delivers the mail), then drop the server's reply and hang up, so the client cannot know.
- `hold_after(n, direction)`, `hold_reply_after_data_dot()`: the same points, but the
  connection stays open and stalls there until `release()` (or `close()`), so that a test
  can kill the client (a worker) while it waits; `wait_until_held()` says it got there.

A fault applies to connections accepted after it is set (all of them, or the next `times`
ones that trigger it). With `tls="implicit"` the proxy terminates the client's TLS with a
certificate from the test CA and speaks TLS upstream; with `tls="starttls"` it relays the
plaintext greeting and STARTTLS exchange (SMTP, IMAP, POP3 STLS) and then upgrades both
sides. Either way faults and byte counters see plaintext. Cuts send no TLS close_notify.
The faults themselves are in tests/harness/faults.py.
"""

import contextlib
import re
import secrets
import select
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tests.harness.certs import DEFAULT_NAMES, TestCA
from tests.harness.faults import (
    C2S,
    S2C,
    CutAfter,
    CutInFetchLiteral,
    Direction,
    Fault,
    HoldAfter,
    HoldReplyAfterDataDot,
    SwallowReplyAfterDataDot,
)

TlsMode = Literal["implicit", "starttls"]
SETUP_TIMEOUT = 10.0  # seconds for the upstream connection and TLS handshakes
CHUNK = 65536

STARTTLS_COMMAND = re.compile(rb"(?:(\S+) )?(STARTTLS|STLS)\r?\Z", re.IGNORECASE)
SMTP_FINAL_LINE = re.compile(rb"\d{3}(?: |\r?\n)")


@dataclass
class _Mode:
    make: Callable[[], Fault]
    times: int | None  # None: every connection
    fired: int = 0

    def new_fault(self) -> Fault:
        armed = self.times is None or self.fired < self.times
        return self.make() if armed else Fault()


class _Connection:
    """One client connection and its upstream, relayed by a single thread.

    One thread and non-blocking sockets, because an SSL object must not be read in one thread
    while another writes to it (TLS 1.3 session tickets arriving then corrupt the stream).
    The cost: while one side does not read, the other direction waits too; IMAP and SMTP
    never need both directions to stream at once.
    """

    def __init__(self, proxy: "FaultProxy", client: socket.socket, mode: _Mode) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream: socket.socket | None = None
        self.mode = mode
        self.fault = mode.new_fault()
        self.awaiting_starttls = proxy.tls == "starttls"

    def run(self) -> None:
        try:
            self._setup()
            self._relay()
        except (OSError, ValueError):
            pass  # a peer went away, or we cut the connection: both are normal here
        finally:
            self.abort()
            for sock in (self.client, self.upstream):
                if sock is not None:
                    sock.close()

    def abort(self) -> None:
        """Closes both directions now (no TLS close_notify); a waiting poll() returns."""
        for sock in (self.client, self.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _setup(self) -> None:
        proxy = self.proxy
        self.client.settimeout(SETUP_TIMEOUT)
        if proxy.tls == "implicit":
            self.client = proxy._server_context.wrap_socket(self.client, server_side=True)
        upstream = socket.create_connection((proxy.target_host, proxy.target_port), SETUP_TIMEOUT)
        self.upstream = upstream
        if proxy.tls == "implicit":
            self.upstream = proxy._client_context.wrap_socket(
                upstream, server_hostname=proxy.server_hostname
            )
        self.client.setblocking(False)
        self.upstream.setblocking(False)

    def _relay(self) -> None:
        assert self.upstream is not None
        poller = select.poll()
        # Upgrading to TLS keeps the descriptors, so the registration stays valid.
        client_fd, upstream_fd = self.client.fileno(), self.upstream.fileno()
        poller.register(client_fd, select.POLLIN)
        poller.register(upstream_fd, select.POLLIN)
        pending = bytearray()  # the client's current, incomplete line (STARTTLS mode)
        while True:
            for fd, _ in poller.poll():
                direction = C2S if fd == client_fd else S2C
                data = _recv_available(self.client if direction == C2S else self.upstream)
                if data is None:
                    continue
                if not data or not self._forward(direction, data):
                    return
                if direction == C2S and self.awaiting_starttls:
                    command = _starttls_command(pending, data)
                    if command is not None and self._starttls_accepted(*command):
                        self._upgrade()
                        break  # the socket objects changed: poll again

    def _forward(self, direction: Direction, data: bytes) -> bool:
        """Sends what the fault lets through; False once the connection is cut."""
        assert self.upstream is not None
        out, cut = self.fault.feed(direction, data)
        if out:
            self.proxy._count(direction, len(out))
            _send_all(self.upstream if direction == C2S else self.client, out)
        if cut:
            self.proxy._fired(self.mode)
            self.abort()
        return not cut

    # -- STARTTLS ----------------------------------------------------------------------------

    def _starttls_accepted(self, tag: bytes | None, verb: bytes) -> bool:
        """Relays the server's reply to STARTTLS/STLS; True if it agreed to start TLS."""
        assert self.upstream is not None
        buffer = bytearray()
        while True:
            data = _recv_available(self.upstream)
            if data is None:
                _wait(self.upstream, select.POLLIN, SETUP_TIMEOUT)
                continue
            if not data or not self._forward(S2C, data):
                raise ConnectionError("connection ended during STARTTLS")
            buffer += data
            while (end := buffer.find(b"\n")) != -1:
                line = bytes(buffer[: end + 1])
                del buffer[: end + 1]
                verdict = _starttls_verdict(line, tag, verb)
                if verdict is not None:
                    return verdict

    def _upgrade(self) -> None:
        assert self.upstream is not None
        proxy = self.proxy
        self.awaiting_starttls = False
        self.upstream.settimeout(SETUP_TIMEOUT)
        self.client.settimeout(SETUP_TIMEOUT)
        self.upstream = proxy._client_context.wrap_socket(
            self.upstream, server_hostname=proxy.server_hostname
        )
        self.client = proxy._server_context.wrap_socket(self.client, server_side=True)
        self.upstream.setblocking(False)
        self.client.setblocking(False)


def _wait(sock: socket.socket, event: int, timeout: float | None = None) -> None:
    poller = select.poll()
    poller.register(sock.fileno(), event)
    if not poller.poll(None if timeout is None else int(timeout * 1000)):
        raise TimeoutError("peer did not answer")


def _recv_available(sock: socket.socket) -> bytes | None:
    """What a non-blocking socket has now: bytes, b"" at the end, None if nothing yet."""
    try:
        data = sock.recv(CHUNK)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return None  # e.g. only a TLS session ticket arrived
    if data and isinstance(sock, ssl.SSLSocket):
        # Decrypted bytes already inside OpenSSL would not wake poll(): take them now.
        while more := sock.pending():
            data += sock.recv(more)
    return data


def _send_all(sock: socket.socket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except (ssl.SSLWantWriteError, BlockingIOError):
            _wait(sock, select.POLLOUT)
            continue
        except ssl.SSLWantReadError:
            _wait(sock, select.POLLIN)
            continue
        view = view[sent:]


def _starttls_command(pending: bytearray, data: bytes) -> tuple[bytes | None, bytes] | None:
    """(tag, verb) if the client's latest complete line is STARTTLS or STLS."""
    pending += data
    command = None
    while (end := pending.find(b"\n")) != -1:
        line = bytes(pending[:end]).rstrip(b"\r")
        del pending[: end + 1]
        match = STARTTLS_COMMAND.match(line)
        command = (match[1], match[2].upper()) if match else None
    return command


def _starttls_verdict(line: bytes, tag: bytes | None, verb: bytes) -> bool | None:
    """True/False when `line` is the final answer to STARTTLS, None while it is not."""
    if verb == b"STLS":  # POP3: a single +OK or -ERR line
        return line.startswith(b"+OK")
    if tag is not None:  # IMAP: untagged lines come first, then "<tag> OK ..."
        if not line.upper().startswith(tag.upper() + b" "):
            return None
        return line[len(tag) + 1 :].upper().startswith(b"OK")
    if not SMTP_FINAL_LINE.match(line):  # SMTP: "220 Ready to start TLS" after "220-" lines
        return None
    return line.startswith(b"220")


class FaultProxy:
    """A proxy in front of target_host:target_port listening on `host:port` (a free port)."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        tls: TlsMode | None = None,
        ca: TestCA | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        server_hostname: str | None = None,
        names: tuple[str, ...] = DEFAULT_NAMES,
    ) -> None:
        if tls not in (None, "implicit", "starttls"):
            raise ValueError(f"unknown tls mode {tls!r}")
        if tls is not None and ca is None:
            raise ValueError("a TLS proxy needs the test CA")
        self.target_host = target_host
        self.target_port = target_port
        self.tls = tls
        self.host = host
        self.port = port
        self.server_hostname = server_hostname or target_host
        if ca is not None:
            self._server_context, self._client_context = _contexts(ca, names)
        self._lock = threading.Lock()
        self._mode = _Mode(Fault, None)
        self._counters = {"connections": 0, C2S: 0, S2C: 0, "faults": 0}
        self._connections: set[_Connection] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._holding = threading.Event()  # a connection waits at a hold_* point
        self._released = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FaultProxy":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def close(self) -> None:
        """Stops listening and cuts every live connection; joins all threads."""
        if self._listener is None:
            return
        self._stopping.set()
        self._released.set()  # held connections go on, and are cut below
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
            pass  # wakes accept()
        self._threads[0].join(timeout=5)  # the accept loop: no new connections after this
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            connection.abort()
        for thread in threads:
            thread.join(timeout=5)
        self._listener.close()
        self._listener = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- faults ------------------------------------------------------------------------------

    def pass_through(self) -> None:
        self._set_mode(Fault, None)

    def cut_after(self, n_bytes: int, direction: Direction = S2C, times: int | None = None) -> None:
        if direction not in (C2S, S2C):
            raise ValueError(f"unknown direction {direction!r}")
        self._set_mode(lambda: CutAfter(n_bytes, direction), times)

    def cut_in_fetch_literal(self, after: int = 0, times: int | None = None) -> None:
        """Forwards `after` bytes of the first FETCH literal (all of it if shorter), then cuts."""
        self._set_mode(lambda: CutInFetchLiteral(after), times)

    def swallow_reply_after_data_dot(self, times: int | None = None) -> None:
        self._set_mode(SwallowReplyAfterDataDot, times)

    def hold_after(
        self, n_bytes: int, direction: Direction = C2S, times: int | None = None
    ) -> None:
        """Forwards up to n bytes that way, then stalls the connection until release()."""
        if direction not in (C2S, S2C):
            raise ValueError(f"unknown direction {direction!r}")
        self._new_hold()
        mode = self._set_mode(
            lambda: HoldAfter(n_bytes, direction, lambda: self._hold(mode)), times
        )

    def hold_reply_after_data_dot(self, times: int | None = None) -> None:
        """The SMTP end of data reaches the server; its reply waits until release()."""
        self._new_hold()
        mode = self._set_mode(lambda: HoldReplyAfterDataDot(lambda: self._hold(mode)), times)

    def wait_until_held(self, timeout: float) -> bool:
        """True once a connection stalls at its hold point (within `timeout` seconds)."""
        return self._holding.wait(timeout)

    def release(self) -> None:
        """Held connections go on relaying (those whose client died then end)."""
        self._released.set()

    def _new_hold(self) -> None:
        self._holding.clear()
        self._released.clear()

    def _hold(self, mode: _Mode) -> None:
        self._fired(mode)  # counts towards `times` and faults_fired
        self._holding.set()
        self._released.wait()

    def _set_mode(self, make: Callable[[], Fault], times: int | None) -> _Mode:
        with self._lock:
            self._mode = _Mode(make, times)
            return self._mode

    # -- counters ----------------------------------------------------------------------------

    @property
    def connections(self) -> int:
        """Connections accepted since start."""
        return self._counters["connections"]

    @property
    def bytes_client_to_server(self) -> int:
        """Plaintext bytes forwarded to the server."""
        return self._counters[C2S]

    @property
    def bytes_server_to_client(self) -> int:
        return self._counters[S2C]

    @property
    def faults_fired(self) -> int:
        """How many connections were cut (or had a reply swallowed)."""
        return self._counters["faults"]

    def _count(self, direction: Direction, size: int) -> None:
        with self._lock:
            self._counters[direction] += size

    def _fired(self, mode: _Mode) -> None:
        with self._lock:
            self._counters["faults"] += 1
            mode.fired += 1  # counts towards `times`

    # -- accepting ---------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:  # keeps the accept loop first: close() joins it before the others
            self._threads = self._threads[:1] + [t for t in self._threads[1:] if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping.is_set():
                client.close()
                return
            with self._lock:
                self._counters["connections"] += 1
                connection = _Connection(self, client, self._mode)
                self._connections.add(connection)
            self._spawn(self._serve, connection)

    def _serve(self, connection: _Connection) -> None:
        try:
            connection.run()
        finally:
            with self._lock:
                self._connections.discard(connection)


def _contexts(ca: TestCA, names: tuple[str, ...]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(context presented to clients, context for the upstream connection)."""
    files = ca.issue(f"faultproxy-{secrets.token_hex(4)}", names)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.cert, files.key)
    client = ssl.create_default_context(cafile=str(ca.ca_file))
    return server, client
