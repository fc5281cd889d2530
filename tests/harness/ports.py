"""Free loopback ports and waiting for a listener."""

import contextlib
import os
import socket
import time


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nobody listens on right now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` different free ports: each socket stays bound until all are picked, so the
    kernel cannot hand out one port twice (as separate free_port() calls now and then do)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    """Returns once host:port accepts a TCP connection; raises TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from exc
            time.sleep(0.05)


def _standard_host() -> str:
    # All of 127.0.0.0/8 is loopback. Each run takes its own address for the servers that must
    # sit on standard ports (IMAP 143/993, POP3, submission, HTTPS 443), so that two suites
    # running at once on one machine do not fight over them.
    return os.environ.get("WEBMAIL_TEST_STANDARD_HOST") or f"127.0.{1 + os.getpid() % 250}.2"


STANDARD_HOST = _standard_host()
