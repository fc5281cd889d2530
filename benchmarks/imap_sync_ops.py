"""How fast are the sync's IMAP operations? mailbox/protocols/imap_* against a real Dovecot.

Seeds N messages (tests/harness/messages.py `volume()`) for a fresh user of a private
Dovecot on loopback (implicit TLS) and times, in one run:

- baseline: imaplib, one `UID FETCH 1:*` of the same header items, raw bytes, nothing parsed;
  and imaplib fetching every `BODY.PEEK[]` in batches of 500;
- `fetch_headers(client, "all")` (IMAPClient's parser, HeaderInfo out) at several batch
  sizes, with the time until the first (newest) batch is in hand;
- `fetch_bodies()` of every message; `uids_in()`; `changes_since()` on the unchanged folder;
  `flags_of()` of every UID (the bounded refresh without CONDSTORE, here unbounded);
- `fetch_body_to()` of a 20 MB message, with tracemalloc's peak.

Run as root on a machine with Dovecot and Postfix (the test command installs them):
    .venv/bin/python -m benchmarks.imap_sync_ops --messages 10000
"""

import argparse
import base64
import hashlib
import imaplib
import random
import ssl
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mailbox.protocols import imap
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_calls import uid_set
from mailbox.protocols.imap_fetch import HEADER_ITEM, fetch_bodies, fetch_body_to, fetch_headers
from mailbox.protocols.imap_folders import select
from mailbox.protocols.imap_sync import changes_since, flags_of, uids_in
from mailbox.protocols.types import Credentials, NetworkPolicy, Security, Server
from tests.harness import messages
from tests.harness.certs import TestCA
from tests.harness.mailservers import MailServerOptions, MailServers, MailUser

RAW_ITEMS = f"(UID FLAGS RFC822.SIZE INTERNALDATE MODSEQ {HEADER_ITEM})"


@contextmanager
def session(servers: MailServers, user: MailUser) -> Iterator[ImapClient]:
    e = servers.endpoints
    server = Server(e.host, e.imaps_port, Security.TLS)
    policy = NetworkPolicy(timeout=60, allow_private=True, ca_file=str(e.ca_file))
    with imap.session(server, Credentials(user.login, user.password), policy) as client:
        yield client


@contextmanager
def raw_imaplib(servers: MailServers, user: MailUser) -> Iterator[imaplib.IMAP4_SSL]:
    e = servers.endpoints
    context = ssl.create_default_context(cafile=str(e.ca_file))
    with imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=context) as client:
        client.login(user.login, user.password)
        client.select("INBOX", readonly=True)
        yield client


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def headers_all(client: ImapClient, batch: int) -> tuple[float, int]:
    """(seconds until the newest batch was in hand, messages) for fetch_headers(all)."""
    started, first, count = time.perf_counter(), 0.0, 0
    for infos in fetch_headers(client, "all", batch=batch):
        first = first or time.perf_counter() - started
        count += len(infos)
    return first, count


def raw_bodies(client: imaplib.IMAP4_SSL, uids: list[int]) -> int:
    total = 0
    for start in range(0, len(uids), 500):
        _, data = client.uid("FETCH", uid_set(uids[start : start + 500]), "(BODY.PEEK[])")
        total += sum(len(item[1]) for item in data if isinstance(item, tuple))
    return total


def big_message(size: int) -> bytes:
    head = messages.plain_text(messages.Envelope(subject="Big scan"), body="See attached.\n")
    payload = base64.encodebytes(random.Random(5).randbytes(size * 3 // 4))
    return head + b"\r\n" + payload.replace(b"\n", b"\r\n")


def run(servers: MailServers, count: int) -> list[tuple[str, float, str]]:
    user = servers.add_user(f"ops{time.monotonic_ns()}@example.test", "bench-password")
    seconds, _ = timed(lambda: servers.seed(user.address, list(messages.volume(count, seed=7))))
    rows = [(f"seed {count} into the Maildir", seconds, "")]
    with raw_imaplib(servers, user) as raw:  # Dovecot indexes on first access: pay it here
        seconds, _ = timed(lambda: raw.uid("FETCH", "1:*", "(UID FLAGS)"))
        rows.append(("first access (Dovecot builds its index)", seconds, ""))
        seconds, _ = timed(lambda: raw.uid("FETCH", "1:*", RAW_ITEMS))
        rows.append(("baseline: imaplib UID FETCH 1:* headers, raw", seconds, ""))
        uids = sorted(int(u) for u in raw.uid("SEARCH", "ALL")[1][0].split())
        seconds, size = timed(lambda: raw_bodies(raw, uids))
        rows.append(("baseline: imaplib BODY.PEEK[] by 500, raw", seconds, f"{size / 1e6:.0f} MB"))
    with session(servers, user) as client:
        select(client, "INBOX", readonly=True)
        for batch in (500, 1000, 2000):
            seconds, (first, got) = timed(lambda b=batch: headers_all(client, b))
            rows.append(
                (
                    f"fetch_headers(all, batch={batch})",
                    seconds,
                    f"{got} msgs, newest {batch} after {first:.3f} s",
                )
            )
        seconds, found = timed(lambda: uids_in(client))
        rows.append(("uids_in (UID SEARCH ALL)", seconds, f"{len(found)} UIDs"))
        state = select(client, "INBOX", readonly=True)
        assert state.highestmodseq is not None
        seconds, changes = timed(lambda: changes_since(client, state.highestmodseq))
        rows.append(("changes_since, unchanged folder", seconds, f"{len(changes.changed)} changed"))
        seconds, flags = timed(lambda: flags_of(client, found))
        rows.append(("flags_of every UID (no CONDSTORE path)", seconds, f"{len(flags)} msgs"))
        seconds, size = timed(lambda: sum(len(b) for _, b in fetch_bodies(client, found)))
        rows.append(("fetch_bodies(all, batch=200)", seconds, f"{size / 1e6:.0f} MB"))
        seconds, size = timed(
            lambda: sum(len(b) for _, b in fetch_bodies(client, found, batch=500))
        )
        rows.append(("fetch_bodies(all, batch=500)", seconds, f"{size / 1e6:.0f} MB"))
    rows.append(stream_big(servers))
    return rows


def stream_big(servers: MailServers) -> tuple[str, float, str]:
    user = servers.add_user(f"big{time.monotonic_ns()}@example.test", "bench-password")
    raw = big_message(20 * 1024 * 1024)
    servers.seed(user.address, [raw])
    with session(servers, user) as client, tempfile.TemporaryFile() as sink:
        select(client, "INBOX")
        tracemalloc.start()
        seconds, written = timed(lambda: fetch_body_to(client, 1, sink))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sink.seek(0)
        same = hashlib.sha256(sink.read()).digest() == hashlib.sha256(raw).digest()
    note = f"{len(raw) / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB, identical: {same}"
    return ("fetch_body_to 20 MB (1 MiB chunks)", seconds, note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-b", dir="/tmp") as folder:
        servers = MailServers(Path(folder), TestCA(Path(folder) / "ca"), MailServerOptions())
        servers.start()
        try:
            for name, seconds, note in run(servers, args.messages):
                print(f"  {name:46} {seconds:8.3f} s  {note}")
        finally:
            servers.stop()


if __name__ == "__main__":
    main()
