"""The sync's speed and memory on a big folder (issue 4, point 12), against a real Dovecot.

All figures come from one run on this machine, next to the limit measured in the same run:
plain imaplib fetching every full message in batches plus the standard `email` package
(policy=compat32) parsing those bytes and extracting their text parts on one core.

    .venv/bin/python -m benchmarks.sync_first --messages 10000 [--memory 10000,50000]

It makes its own SQLite database (or --database-url), storage folder, CA and Dovecot, as root.
"""

import argparse
import email
import email.policy
import imaplib
import json
import os
import resource
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BIG_MESSAGE_MB = 4


def configure_django(folder: Path, database_url: str | None, ca_file: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        "DJANGO_SETTINGS_MODULE": "webmail.settings",
        "WEBMAIL_ENV_FILE": str(folder / "none.env"),
        # As in production: with DEBUG on, Django keeps the last 9,000 SQL statements (bulk
        # inserts included) and the memory figures would measure that log.
        "DEBUG": "false",
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "MAIL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        "DATA_DIR": str(folder / "data"),
        "MAIL_ALLOW_PRIVATE_HOSTS": "true",
        "SSL_CERT_FILE": str(ca_file),
        "CACHE_KEY_PREFIX": f"bench{os.getpid()}",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return env


def limit(servers, user) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds to fetch every body with imaplib, then to parse them with compat32."""
    bodies, fetched_in = _fetch_all(servers, user)
    return fetched_in, _parse_all(bodies, email.policy.compat32)


def default_policy_parse(servers, user) -> float:  # type: ignore[no-untyped-def]
    """Seconds to parse every message with policy=default (printed beside the limit)."""
    bodies, _ = _fetch_all(servers, user)
    return _parse_all(bodies, email.policy.default)


def _fetch_all(servers, user) -> tuple[list[bytes], float]:  # type: ignore[no-untyped-def]
    e = servers.endpoints
    context = ssl.create_default_context(cafile=str(e.ca_file))
    started = time.perf_counter()
    bodies: list[bytes] = []
    with imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=context) as client:
        client.login(user.login, user.password)
        client.select("INBOX", readonly=True)
        _, data = client.uid("SEARCH", "ALL")
        uids = data[0].split()
        for start in range(0, len(uids), 500):
            chunk = b",".join(uids[start : start + 500]).decode()
            _, fetched = client.uid("FETCH", chunk, "(BODY.PEEK[])")
            bodies += [item[1] for item in fetched if isinstance(item, tuple)]
    return bodies, time.perf_counter() - started


def _parse_all(bodies: list[bytes], policy) -> float:  # type: ignore[no-untyped-def]
    from mailbox.protocols.mime_boundaries import standard_parser

    with standard_parser():  # the limit is the standard library as it ships
        started = time.perf_counter()
        for raw in bodies:
            message = email.message_from_bytes(raw, policy=policy)
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    part.get_payload(decode=True)
        return time.perf_counter() - started


def timed(work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def other_client_changes(servers, user, count: int = 100) -> None:  # type: ignore[no-untyped-def]
    """Another mail program flags 100, expunges 100; 100 new messages arrive."""
    from tests.harness import messages

    with servers.imap(user.address) as client:
        client.select("INBOX")
        _, data = client.uid("SEARCH", "ALL")
        uids = data[0].split()
        flag = b",".join(uids[:count]).decode()
        gone = b",".join(uids[count : 2 * count]).decode()
        client.uid("STORE", flag, "+FLAGS", "(\\Flagged)")
        client.uid("STORE", gone, "+FLAGS", "(\\Deleted)")
        client.expunge()
    servers.seed(user.address, list(messages.volume(count, seed=99)))


def stored_bytes(folder: Path, database_url: str | None) -> int:
    files = sum(p.stat().st_size for p in (folder / "data").rglob("*") if p.is_file())
    if database_url:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return files + int(cursor.fetchone()[0])
    return files + sum(p.stat().st_size for p in folder.glob("bench.sqlite3*"))


Spawn = Callable[[list[str]], tuple[int, int]]  # argv -> (wait status, ru_maxrss in KiB)


@contextmanager
def small_spawner() -> Iterator[Spawn]:
    """Runs commands from a helper process started now, while this process is still small.

    On Linux a process's ru_maxrss is never below the peak of the process it was started
    from: exec keeps the larger of the old image's high-water mark and the new one's (and with
    vfork, which subprocess uses, the old image is the parent's own). Started from here after
    `make_account` had seeded 50,000 messages, `syncmail` reported this process's 254 MB
    rather than its own ~165 MB, and the figure grew with the folder this process seeded.
    """
    helper = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sync_first", "--spawn-helper"],
        cwd=PROJECT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    requests, answers = helper.stdin, helper.stdout
    assert requests is not None and answers is not None

    def spawn(args: list[str]) -> tuple[int, int]:
        requests.write(json.dumps([args, dict(os.environ)]) + "\n")
        requests.flush()
        status, maxrss = json.loads(answers.readline())
        return status, maxrss

    try:
        yield spawn
    finally:
        requests.close()
        helper.wait()


def _spawn_helper() -> None:
    """small_spawner's end: runs each [argv, environ] line it reads, answers [status, maxrss]."""
    for line in sys.stdin:
        args, environ = json.loads(line)
        process = subprocess.Popen(
            args, cwd=PROJECT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        print(json.dumps([status, usage.ru_maxrss]), flush=True)


def syncmail_peak_mb(spawn: Spawn, address: str) -> tuple[float, float]:
    """Peak resident memory (MB) and seconds of a separate `manage.py syncmail` process."""
    started = time.perf_counter()
    status, maxrss = spawn([sys.executable, "manage.py", "syncmail", address])
    if status != 0:
        raise RuntimeError(f"syncmail exited with {status}")
    return maxrss / 1024, time.perf_counter() - started


def make_account(servers, owner: str, count: int, big: int):  # type: ignore[no-untyped-def]
    from tests.harness import messages

    user = servers.add_user(f"{owner}@example.test", "bench-password")
    servers.seed(user.address, list(messages.volume(count)))
    for index in range(big):
        servers.seed(user.address, [_big_message(index)])
    return user, another_account(servers, user, owner)


def another_account(servers, user, owner: str):  # type: ignore[no-untyped-def]
    """A webmail account (of a new person `owner`) on the server mailbox of `user`."""
    from accounts.models import User
    from accounts.services.mail_accounts import AccountSettings, do_create_account
    from mailbox.protocols.types import Credentials, Protocol, Security, Server

    e = servers.endpoints
    imaps = Server(e.host, e.imaps_port, Security.TLS)
    values = AccountSettings(
        user.address, owner, Protocol.IMAP, imaps, user.login, imaps, user.login
    )
    credentials = Credentials(user.login, user.password)
    person = User.objects.create_user(owner)
    return do_create_account(person, values, credentials, credentials)


def _big_message(index: int) -> bytes:
    from email.message import EmailMessage

    from tests.harness import messages

    message = EmailMessage()
    message["From"], message["To"] = "alice@example.test", "bob@example.test"
    message["Subject"], message["Message-ID"] = f"Big one {index}", f"<big-{index}@example.test>"
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0000"
    message.set_content("A big attachment follows.\n")
    attachment = messages.pdf_bytes(size=BIG_MESSAGE_MB * 1024 * 1024, seed=index)
    message.add_attachment(attachment, maintype="application", subtype="pdf", filename="big.pdf")
    return message.as_bytes(policy=email.policy.SMTP)


def run(  # noqa: PLR0913 (the command line's options)
    count: int, memory_sizes: list[int], database_url: str | None, big: int, rounds: int
) -> list[str]:
    from tests.harness.certs import TestCA
    from tests.harness.mailservers import MailServerOptions, MailServers

    lines = []
    with (
        small_spawner() as spawn,
        tempfile.TemporaryDirectory(prefix="wm-s", dir="/tmp") as name,
    ):
        folder = Path(name)
        folder.chmod(0o755)  # Dovecot's and Postfix's own users must reach their folders
        ca = TestCA(folder / "ca")
        configure_django(folder, database_url, ca.ca_file)
        servers = MailServers(folder / "m", ca, MailServerOptions())
        servers.start()
        try:
            lines += _first_sync_figures(servers, folder, count, database_url, big, rounds)
            for size in memory_sizes:
                user, _ = make_account(servers, f"mem{size}", size, big)
                peak, seconds = syncmail_peak_mb(spawn, user.address)
                lines.append(f"syncmail, {size} messages: peak {peak:.0f} MB, {seconds:.1f} s")
        finally:
            servers.stop()
    return lines


def _first_sync_figures(  # type: ignore[no-untyped-def]
    servers, folder: Path, count: int, database_url, big: int, rounds: int
) -> list[str]:
    """The first sync is timed `rounds` times (one account each, on the same server mailbox,
    the limit measured just before each): this machine's speed wanders by a tenth from one
    minute to the next, so each sync is set against its own round's limit, the median of
    those shares is the figure, and every run is printed."""
    from mailbox.models import Message
    from mailbox.services.sync import sync_account

    user, account = make_account(servers, "bench", count, big)
    limits, firsts = [], []
    for index in range(rounds):
        each = account if index == 0 else another_account(servers, user, f"bench{index}")
        limits.append(sum(limit(servers, user)))
        firsts.append(_first_sync(each.pk))
        if index == 0:  # one account's store, before the others' are added
            stored = stored_bytes(folder, database_url)
    fetch, parse = limit(servers, user)
    parse_default = default_policy_parse(servers, user)
    the_limit = statistics.median(limits)
    shares = [limit_s / first_s for limit_s, (first_s, _) in zip(limits, firsts, strict=True)]
    first = statistics.median(seconds for seconds, _ in firsts)
    envelopes = statistics.median(seconds for _, seconds in firsts)
    unchanged, _ = timed(lambda: sync_account(account.pk))
    plain_unchanged = _unchanged_without_condstore(account.pk)
    changes = min(100, count // 3)
    other_client_changes(servers, user, changes)
    after_changes, report = timed(lambda: sync_account(account.pk))
    total = count + big
    raw_size = sum(Message.objects.filter(account=account).values_list("size", flat=True))
    return [
        f"{total} messages ({raw_size / total / 1024:.1f} KiB on average, "
        f"{big} of {BIG_MESSAGE_MB} MB)",
        f"limit: imaplib fetch {fetch:.2f} s + compat32 parse {parse:.2f} s "
        f"= {fetch + parse:.2f} s ({total / (fetch + parse):.0f} msg/s); "
        f"policy=default parse {parse_default:.2f} s",
        f"limit, median of {rounds}: {the_limit:.2f} s ({_listed(limits)})",
        f"envelopes in the database, median of {rounds}: {envelopes:.2f} s "
        f"({_listed(e for _, e in firsts)})",
        f"full first sync, median of {rounds}: {first:.2f} s ({_listed(f for f, _ in firsts)}), "
        f"{total / first:.0f} msg/s",
        f"full first sync's rate, share of its round's limit: "
        f"median {statistics.median(shares):.0%} ({', '.join(f'{s:.0%}' for s in shares)})",
        f"unchanged resync: {unchanged:.3f} s with CONDSTORE, {plain_unchanged:.3f} s without",
        f"after 100 flag changes, 100 new, 100 expunged: {after_changes:.2f} s ({report.new} new)",
        f"stored: {stored / total / 1024:.1f} KiB per message (database + files) for "
        f"{raw_size / total / 1024:.1f} KiB of mail",
        f"parsing helper: peak {max(HELPER_PEAKS_MB, default=0):.0f} MB "
        f"({len(HELPER_PEAKS_MB)} started by the {rounds} first syncs)",
    ]


def _listed(seconds: Iterable[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in seconds)


def _first_sync(account_id: int) -> tuple[float, float]:
    """One first sync, as a worker runs it: (seconds in all, seconds until the inbox's
    envelopes were all in the database, i.e. when its bodies stage began)."""
    from mailbox.services.sync import imap_folder, sync_account

    started = time.perf_counter()
    envelopes_done: list[float] = []
    real_bodies = imap_folder.fetch_missing_bodies

    def bodies_stage(client, folder, *args):  # type: ignore[no-untyped-def]
        if folder.role == "inbox":
            envelopes_done.append(time.perf_counter() - started)
        return real_bodies(client, folder, *args)

    imap_folder.fetch_missing_bodies = bodies_stage  # type: ignore[assignment]
    try:
        with helper_peaks() as peaks:
            seconds, _ = timed(lambda: sync_account(account_id))
    finally:
        imap_folder.fetch_missing_bodies = real_bodies  # type: ignore[assignment]
    HELPER_PEAKS_MB.extend(peaks)
    return seconds, envelopes_done[0]


HELPER_PEAKS_MB: list[float] = []


@contextmanager
def helper_peaks() -> Iterator[list[float]]:
    """The peak resident memory (MB) of each parsing helper, read just before it ends: its
    memory is its own, beside the worker's (or syncmail's) peak."""
    from mailbox.protocols import mime_pool

    peaks: list[float] = []
    real_close = mime_pool._Helper.close

    def close(helper):  # type: ignore[no-untyped-def]
        status = Path(f"/proc/{helper.process.pid}/status")
        for line in status.read_text().splitlines() if status.exists() else ():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
        real_close(helper)

    mime_pool._Helper.close = close  # type: ignore[method-assign]
    try:
        yield peaks
    finally:
        mime_pool._Helper.close = real_close  # type: ignore[method-assign]


def _unchanged_without_condstore(account_id: int) -> float:
    """The same resync as if the server had no CONDSTORE (bounded flag refresh, UID diff)."""
    from mailbox.models import Folder
    from mailbox.protocols import imap_folders
    from mailbox.services.sync import account as account_sync
    from mailbox.services.sync import imap_folder, sync_account

    real_select, real_enable = imap_folders.select, account_sync.enable_extensions
    Folder.objects.filter(account_id=account_id).update(highestmodseq=None)
    imap_folder.imap_folders.select = lambda client, name, **kw: real_select(  # type: ignore[assignment]
        client, name, condstore=False, readonly=True
    )
    account_sync.enable_extensions = lambda client: frozenset()  # type: ignore[assignment]
    try:
        seconds, _ = timed(lambda: sync_account(account_id))
    finally:
        imap_folder.imap_folders.select = real_select  # type: ignore[assignment]
        account_sync.enable_extensions = real_enable  # type: ignore[assignment]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=3, help=f"{BIG_MESSAGE_MB} MB messages added")
    parser.add_argument(
        "--memory", default="", help="sizes for the syncmail memory runs, e.g. 10000,50000"
    )
    parser.add_argument("--database-url", default=None)
    # Five: one round's share wandered from 46 % to 56 % on the same code within minutes.
    parser.add_argument("--rounds", type=int, default=5, help="first syncs timed (median)")
    parser.add_argument("--spawn-helper", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.spawn_helper:
        _spawn_helper()
        return
    sizes = [int(size) for size in args.memory.split(",") if size]
    for line in run(args.messages, sizes, args.database_url, args.big, max(1, args.rounds)):
        print(line)
    print(f"this process: peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
