"""How fast can a sync read a big folder? Envelopes of N messages from a real Dovecot.

The first sync of a large folder must list every message quickly (issue 4: "the inbox is
usable within seconds"), so this measures the ways of fetching what the message list needs
(UID, FLAGS, size, the list's header fields) against a baseline measured in the same run:

- baseline: imaplib, one UID FETCH of those items, raw bytes, nothing parsed;
- IMAPClient: the same items, parsed into Python structures;
- IMAPClient ENVELOPE: the server-parsed envelope instead of header fields;
- seeding: writing the messages into the Maildir against IMAP APPEND (a sample), which is
  why the test harness seeds by file.

Run as root on a machine with Dovecot and Postfix (the test command installs them):
    .venv/bin/python -m benchmarks.imap_envelopes --messages 10000
"""

import argparse
import imaplib
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from tests.harness import messages
from tests.harness.certs import TestCA
from tests.harness.mailservers import MailServerOptions, MailServers, MailUser

LIST_HEADERS = b"FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES CONTENT-TYPE"
ITEMS = f"(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({LIST_HEADERS.decode()})])"


@dataclass(frozen=True)
class Figure:
    name: str
    seconds: float
    count: int  # messages the method returned: every method must see all of them


def _imaplib_raw(servers: MailServers, login: str, password: str) -> int:
    e = servers.endpoints
    context = ssl.create_default_context(cafile=str(e.ca_file))
    with imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=context) as client:
        client.login(login, password)
        client.select("INBOX", readonly=True)
        _, data = client.uid("FETCH", "1:*", ITEMS)
        return sum(1 for item in data if isinstance(item, tuple))


def _imapclient(servers: MailServers, login: str, password: str, items: list[str]) -> int:
    e = servers.endpoints
    context = ssl.create_default_context(cafile=str(e.ca_file))
    with IMAPClient(e.host, port=e.imaps_port, ssl=True, ssl_context=context) as client:
        client.login(login, password)
        client.select_folder("INBOX", readonly=True)
        return len(client.fetch(client.search("ALL"), items))


def _timed(name: str, work: Callable[[], int]) -> Figure:
    started = time.perf_counter()
    count = work()
    return Figure(name, time.perf_counter() - started, count)


HEADER_ITEMS = [
    "UID",
    "FLAGS",
    "RFC822.SIZE",
    f"BODY.PEEK[HEADER.FIELDS ({LIST_HEADERS.decode()})]",
]
ENVELOPE_ITEMS = ["UID", "FLAGS", "RFC822.SIZE", "ENVELOPE"]


def run(servers: MailServers, count: int) -> list[Figure]:
    """Seeds `count` messages for a fresh user and times each way of listing them."""
    user = servers.add_user(f"bench{time.monotonic_ns()}@example.test", "bench-password")
    login, password = user.login, user.password
    corpus = list(messages.volume(count, seed=7))
    sample = corpus[: max(1, count // 20)]

    figures = [
        _timed("seed: Maildir files (baseline)", lambda: len(servers.seed(user.address, corpus))),
        _timed("seed: IMAP APPEND (1/20 sample)", lambda: _append(servers, user, sample)),
    ]
    # Dovecot indexes a folder on first access; pay that once, outside the comparison.
    _imaplib_raw(servers, login, password)
    figures += [
        _timed("list: imaplib raw (baseline)", lambda: _imaplib_raw(servers, login, password)),
        _timed(
            "list: IMAPClient headers",
            lambda: _imapclient(servers, login, password, HEADER_ITEMS),
        ),
        _timed(
            "list: IMAPClient ENVELOPE",
            lambda: _imapclient(servers, login, password, ENVELOPE_ITEMS),
        ),
    ]
    return figures


def _append(servers: MailServers, user: MailUser, sample: list[bytes]) -> int:
    e = servers.endpoints
    context = ssl.create_default_context(cafile=str(e.ca_file))
    with IMAPClient(e.host, port=e.imaps_port, ssl=True, ssl_context=context) as client:
        client.login(user.login, user.password)
        client.create_folder("Appended")
        for raw in sample:
            client.append("Appended", raw)
    return len(sample)


def report(figures: list[Figure]) -> str:
    """One line per figure: time, time per message, and the ratio to its group's baseline."""
    lines = []
    for figure in figures:
        group = figure.name.split(":")[0]
        baseline = next(f for f in figures if f.name.startswith(group) and "baseline" in f.name)
        per_message = figure.seconds / max(1, figure.count)
        ratio = per_message / (baseline.seconds / max(1, baseline.count))
        lines.append(
            f"  {figure.name:34} {figure.count:6} msgs {figure.seconds:8.3f} s "
            f"{per_message * 1e6:9.1f} us/msg {ratio:7.1f}x baseline"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-b", dir="/tmp") as folder:
        servers = MailServers(Path(folder), TestCA(Path(folder) / "ca"), MailServerOptions())
        servers.start()
        try:
            print(f"{args.messages} messages")
            print(report(run(servers, args.messages)))
        finally:
            servers.stop()


if __name__ == "__main__":
    main()
