"""Connections to servers that people name: resolution, address policy, TLS.

Every outgoing connection of the product goes through `connect()`: it resolves the name
(through `NetworkPolicy.dns_server` when set), refuses loopback, private, link-local,
multicast and reserved addresses unless the policy allows them, and connects to the very
address it checked — so a name that changes its answer between a check and the connection
(DNS rebinding) gains nothing. TLS is verified against the system trust store (which honours
SSL_CERT_FILE), or against one pinned certificate fingerprint that a person chose to trust.
"""

import hashlib
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dns.exception
import dns.resolver

from mailbox.protocols.errors import (
    CertificateUntrusted,
    ConnectFailed,
    ConnectionRefused,
    ForbiddenAddress,
    MailProtocolError,
    NameNotFound,
    TimedOut,
)
from mailbox.protocols.types import NetworkPolicy, Security, Server

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: IPAddress) -> bool:
    """False for loopback, private, link-local (cloud metadata), multicast, reserved..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """ "host", "host:port", "[v6]" or "[v6]:port" -> (host, port)."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, int(rest.lstrip(":") or default_port)
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, int(port)
    return value, default_port


def resolver_for(dns_server: str) -> dns.resolver.Resolver:
    """A resolver that asks only `dns_server` (an IP address, optionally with a port)."""
    host, port = split_host_port(dns_server, 53)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    return resolver


def resolve(host: str, policy: NetworkPolicy) -> list[IPAddress]:
    """The addresses `host` names, IPv4 first; raises NameNotFound."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    if policy.dns_server:
        return _resolve_with_dnspython(host, policy)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise NameNotFound(host) from exc
    found = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    return sorted(found, key=lambda address: address.version)


def _resolve_with_dnspython(host: str, policy: NetworkPolicy) -> list[IPAddress]:
    resolver = resolver_for(policy.dns_server or "")
    resolver.lifetime = policy.timeout
    found: list[IPAddress] = []
    for rtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, rtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            continue
        except dns.exception.Timeout as exc:
            raise NameNotFound(host) from exc
        found.extend(ipaddress.ip_address(record.to_text()) for record in answer)
    if not found:
        raise NameNotFound(host)
    return found


def allowed_addresses(host: str, policy: NetworkPolicy) -> list[IPAddress]:
    """The addresses of `host` we may connect to; raises ForbiddenAddress when there are none."""
    addresses = resolve(host, policy)
    if policy.allow_private:
        return addresses
    allowed = [address for address in addresses if is_public_address(address)]
    if not allowed:
        raise ForbiddenAddress(host, str(addresses[0]))
    return allowed


def connect(host: str, port: int, policy: NetworkPolicy) -> socket.socket:
    """A TCP connection to `host`, made to an address that passed the policy."""
    last_error: Exception | None = None
    for address in allowed_addresses(host, policy):
        try:
            return socket.create_connection((str(address), port), timeout=policy.timeout)
        except ConnectionRefusedError as exc:
            last_error = ConnectionRefused(host, port)
            last_error.__cause__ = exc
        except TimeoutError as exc:
            last_error = TimedOut(host, port)
            last_error.__cause__ = exc
        except OSError as exc:
            last_error = ConnectFailed(host, port, exc.strerror or type(exc).__name__)
            last_error.__cause__ = exc
    assert last_error is not None  # allowed_addresses never returns an empty list
    raise last_error


def fingerprint(certificate_der: bytes) -> str:
    """SHA-256 of a DER certificate as upper-case hex pairs joined by colons."""
    return hashlib.sha256(certificate_der).digest().hex(":").upper()


def normalise_fingerprint(value: str) -> str:
    """Accepts "ab:cd…", "ABCD…" or with spaces; returns the canonical colon form."""
    digits = "".join(ch for ch in value.upper() if ch in "0123456789ABCDEF")
    if len(digits) != 64:
        raise ValueError("a SHA-256 fingerprint has 64 hexadecimal digits")
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def tls_context(policy: NetworkPolicy, pinned_fingerprint: str | None = None) -> ssl.SSLContext:
    """A client context: verified against the trust store, or open for a pinned certificate.

    With a pin, chain and name checks are replaced by `check_pinned()` after the handshake:
    the person trusted exactly that certificate, whoever issued it.
    """
    context = ssl.create_default_context(cafile=policy.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if pinned_fingerprint:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def unverified_context() -> ssl.SSLContext:
    """Only to read the certificate of a server that failed verification: never to log in."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def check_pinned(tls_socket: ssl.SSLSocket, host: str, port: int, pinned: str | None) -> None:
    """Raises CertificateUntrusted unless the peer's certificate is the pinned one."""
    if not pinned:
        return
    der = tls_socket.getpeercert(binary_form=True) or b""
    presented = fingerprint(der)
    if presented != normalise_fingerprint(pinned):
        raise CertificateUntrusted(host, port, "it is not the certificate you trusted", presented)


@contextmanager
def tls_errors(host: str, port: int) -> Iterator[None]:
    """Turns a failed TLS handshake into typed errors, also when a library does the handshake
    (STARTTLS). A verification failure carries no fingerprint yet: see presented_fingerprint()."""
    try:
        yield
    except ssl.SSLCertVerificationError as exc:
        raise CertificateUntrusted(host, port, exc.verify_message or str(exc), None) from exc
    except ssl.SSLError as exc:
        raise ConnectFailed(host, port, f"TLS failed: {exc}") from exc


def wrap(
    sock: socket.socket,
    host: str,
    port: int,
    policy: NetworkPolicy,
    pinned: str | None = None,
    context: ssl.SSLContext | None = None,
) -> ssl.SSLSocket:
    """TLS over a connected socket, verified; failures become typed errors.

    `context` defaults to `tls_context(policy, pinned)`; only the certificate probe passes
    another (`unverified_context()`). On a verification failure the error carries no
    fingerprint: the caller fetches it with `presented_fingerprint()` on a fresh connection,
    without sending anything secret.
    """
    try:
        with tls_errors(host, port):
            tls_socket = (context or tls_context(policy, pinned)).wrap_socket(
                sock, server_hostname=host
            )
    except MailProtocolError:
        sock.close()
        raise
    except TimeoutError as exc:
        sock.close()
        raise TimedOut(host, port) from exc
    except OSError as exc:
        sock.close()
        raise ConnectFailed(host, port, f"TLS failed: {exc}") from exc
    try:
        check_pinned(tls_socket, host, port, pinned)
    except CertificateUntrusted:
        tls_socket.close()
        raise
    return tls_socket


def connect_server(
    server: Server,
    policy: NetworkPolicy,
    context: ssl.SSLContext | None = None,
    pinned: str | None = None,
) -> socket.socket:
    """`connect()`, then `wrap()` when the server speaks TLS from the first byte. STARTTLS is
    the protocol's business: the caller upgrades after the greeting."""
    sock = connect(server.host, server.port, policy)
    if server.security is not Security.TLS:
        return sock
    return wrap(sock, server.host, server.port, policy, pinned, context)


def peer_fingerprint(sock: socket.socket) -> str | None:
    """The fingerprint of the certificate on a TLS connection; None for plain text."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    return fingerprint(der) if der else None


def presented_fingerprint(read_certificate: Callable[[ssl.SSLContext], bytes | None]) -> str | None:
    """The fingerprint of the certificate a server presents, for CertificateUntrusted.

    `read_certificate(context)` repeats the protocol's steps up to the handshake (STARTTLS
    included) on a fresh connection with the given context, returns the peer's DER certificate
    and hangs up: it never signs in, since that connection is not verified. None when the
    second connection fails too: the first error is what matters then.
    """
    try:
        der = read_certificate(unverified_context())
    except MailProtocolError:
        return None
    return fingerprint(der) if der else None
