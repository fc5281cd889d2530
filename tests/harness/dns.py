"""A local authoritative DNS server that answers only what the test told it.

The product reads `MAIL_DNS_SERVER` ("host" or "host:port") and asks this server instead of
the system resolver, so MX, SRV, TXT and autoconfig lookups are deterministic and offline.
UDP and TCP listen on the same port; UDP answers too large for the client are truncated (TC)
so resolvers retry over TCP, as with a real server.
"""

import contextlib
import io
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

MAX_CNAME_HOPS = 8
TCP_IDLE_TIMEOUT = 10.0  # seconds a TCP client may stay silent before we hang up


@dataclass(frozen=True)
class DnsQuery:
    name: str  # lower case, without the trailing dot
    rtype: str  # "A", "MX", ...
    transport: str  # "udp" or "tcp"


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text.lower().rstrip(".") + ".")


def _plain(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def _txt_rdata(value: str) -> dns.rdata.Rdata:
    # Long TXT values (DKIM keys) must be split into strings of at most 255 bytes.
    raw = value.encode()
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)


def _rdata(rdtype: dns.rdatatype.RdataType, value: str) -> dns.rdata.Rdata:
    if rdtype == dns.rdatatype.TXT and not value.startswith('"'):
        return _txt_rdata(value)
    return dns.rdata.from_text(
        dns.rdataclass.IN, rdtype, value, origin=dns.name.root, relativize=False
    )


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


class LocalDnsServer:
    """Answers A, AAAA, MX, TXT, CNAME, SRV (any type dnspython knows) from `set()` records.

    Unknown names get NXDOMAIN, known names asked for another type an empty NOERROR answer.
    `silence(name)` drops queries for a name (to test time-outs), `fail(name)` answers them
    with an error code. Every query is recorded in `queries`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._wanted_port = port
        self.port = 0
        self._lock = threading.Lock()
        self._records: dict[tuple[dns.name.Name, dns.rdatatype.RdataType], dns.rrset.RRset] = {}
        self._silenced: set[dns.name.Name] = set()
        self._failing: dict[dns.name.Name, dns.rcode.Rcode] = {}
        self._queries: list[DnsQuery] = []
        self.errors: list[str] = []  # exceptions raised while answering (bugs, not DNS errors)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tcp_clients: set[socket.socket] = set()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """The "host:port" value for the product's MAIL_DNS_SERVER setting."""
        return f"{self.host}:{self.port}"

    def start(self) -> "LocalDnsServer":
        self._udp, self._tcp = self._bind()
        self.port = self._udp.getsockname()[1]
        self._spawn(self._serve_udp)
        self._spawn(self._serve_tcp)
        return self

    def close(self) -> None:
        if self._udp is None or self._tcp is None:
            return
        self._stopping.set()
        self._wake_listeners()
        with self._lock:
            listeners = self._threads[:2]  # UDP and TCP: nothing is accepted once they end
        for thread in listeners:
            thread.join(timeout=5)
        with self._lock:
            clients = list(self._tcp_clients)
            threads = list(self._threads)
        for client in clients:
            _shutdown(client)
        for thread in threads:
            thread.join(timeout=5)
        self._udp.close()
        self._tcp.close()
        self._udp = self._tcp = None

    def __enter__(self) -> "LocalDnsServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        # UDP and TCP must share one port number; retry when a free UDP port is taken on TCP.
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, self._wanted_port))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                if self._wanted_port:
                    raise
                continue
            tcp.listen(16)
            return udp, tcp
        raise OSError(f"no port free for both UDP and TCP on {self.host}")

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:  # keeps the two listeners first, for close()
            self._threads = self._threads[:2] + [t for t in self._threads[2:] if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _wake_listeners(self) -> None:
        # A datagram and a connection to ourselves unblock recvfrom() and accept().
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"", (self.host, self.port))
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
            pass

    # -- records -----------------------------------------------------------------------------

    def set(self, name: str, rtype: str, values: str | Iterable[str], ttl: int = 60) -> None:
        """Replaces the `rtype` records of `name`.

        e.g. set("example.test", "MX", ["10 mx.example.test."]); TXT values are plain text.
        """
        rdtype = dns.rdatatype.from_text(rtype.upper())
        items = [values] if isinstance(values, str) else list(values)
        rrset = dns.rrset.RRset(_name(name), dns.rdataclass.IN, rdtype)
        for value in items:
            rrset.add(_rdata(rdtype, value), ttl)
        rrset.to_wire(io.BytesIO())  # fails here, in the test, rather than in the server thread
        with self._lock:
            self._records[(rrset.name, rdtype)] = rrset

    def silence(self, name: str) -> None:
        """Never answer queries for `name` (any type); they are still recorded."""
        with self._lock:
            self._silenced.add(_name(name))

    def fail(self, name: str, rcode: str = "SERVFAIL") -> None:
        """Answer every query for `name` with `rcode` ("SERVFAIL", "REFUSED", ...)."""
        with self._lock:
            self._failing[_name(name)] = dns.rcode.from_text(rcode)

    def clear(self) -> None:
        """Forgets records, silenced and failing names, recorded queries and errors."""
        with self._lock:
            self._records.clear()
            self._silenced.clear()
            self._failing.clear()
            self._queries.clear()
            self.errors.clear()

    @property
    def queries(self) -> list[DnsQuery]:
        with self._lock:
            return list(self._queries)

    def queries_for(self, name: str, rtype: str | None = None) -> list[DnsQuery]:
        plain = _plain(_name(name))
        return [
            q
            for q in self.queries
            if q.name == plain and (rtype is None or q.rtype == rtype.upper())
        ]

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, wire: bytes, transport: str) -> bytes | None:
        """The response's wire form, or None to stay silent; never raises."""
        try:
            return self._build_answer(wire, transport)
        except Exception as exc:  # the server thread must survive a bad record
            with self._lock:
                self.errors.append(repr(exc))
            return None

    def _build_answer(self, wire: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None  # not DNS: a real server would drop it too
        if not query.question:
            return None
        question = query.question[0]
        self._record_query(question.name, question.rdtype, transport)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        with self._lock:
            if question.name in self._silenced:
                return None
            rcode = self._failing.get(question.name)
            if rcode is None:
                rcode = self._resolve(response, question.name, question.rdtype)
        response.set_rcode(rcode)
        return self._to_wire(query, response, transport)

    def _record_query(self, name: dns.name.Name, rdtype: int, transport: str) -> None:
        query = DnsQuery(_plain(name), dns.rdatatype.to_text(rdtype), transport)
        with self._lock:
            self._queries.append(query)

    def _resolve(
        self, response: dns.message.Message, name: dns.name.Name, rdtype: int
    ) -> dns.rcode.Rcode:
        """Fills the answer section (following local CNAMEs); called with the lock held."""
        for _ in range(MAX_CNAME_HOPS):
            exact = self._records.get((name, rdtype))
            if exact is not None:
                response.answer.append(exact)
                return dns.rcode.NOERROR
            cname = self._records.get((name, dns.rdatatype.CNAME))
            if cname is None:
                break
            response.answer.append(cname)
            name = cname[0].target
        return dns.rcode.NOERROR if self._exists(name) else dns.rcode.NXDOMAIN

    def _exists(self, name: dns.name.Name) -> bool:
        # A name exists if it or a name below it has records (empty non-terminals exist too).
        return any(owner.is_subdomain(name) for owner, _ in self._records)

    @staticmethod
    def _to_wire(
        query: dns.message.Message, response: dns.message.Message, transport: str
    ) -> bytes:
        if transport == "tcp":
            return response.to_wire(max_size=65535)
        limit = max(512, query.payload) if query.edns >= 0 else 512
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            # Truncate as real servers do, so the client retries over TCP.
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.AA | dns.flags.RA | dns.flags.TC
            return truncated.to_wire(max_size=limit)

    # -- transports --------------------------------------------------------------------------

    def _serve_udp(self) -> None:
        assert self._udp is not None
        while not self._stopping.is_set():
            try:
                wire, peer = self._udp.recvfrom(65535)
            except OSError:
                return
            if self._stopping.is_set():
                return
            reply = self._answer(wire, "udp")
            if reply is not None:
                self._udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        assert self._tcp is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._tcp.accept()
            except OSError:
                return
            if self._stopping.is_set():
                client.close()
                return
            client.settimeout(TCP_IDLE_TIMEOUT)
            with self._lock:
                self._tcp_clients.add(client)
            self._spawn(self._serve_tcp_client, client)

    def _serve_tcp_client(self, client: socket.socket) -> None:
        try:
            while not self._stopping.is_set():
                header = _recv_exact(client, 2)
                if header is None:
                    return
                wire = _recv_exact(client, struct.unpack("!H", header)[0])
                if wire is None:
                    return
                reply = self._answer(wire, "tcp")
                if reply is not None:
                    client.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            with self._lock:
                self._tcp_clients.discard(client)
            client.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
