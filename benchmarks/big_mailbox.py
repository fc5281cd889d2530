"""A big, realistic mailbox for the reading benchmark (benchmarks/reading.py), in a
PostgreSQL database of its own.

One person with two accounts (68 % + 29 % of the messages in the inboxes, the rest in Archive
and Sent; Trash and Junk empty). Messages come from tests/harness/messages.volume (real
bodies from a small vocabulary, so most words are common; attachments; replies that make
conversations); one in RARE_EVERY also carries RARE_WORD. They go in through the sync's own
store path without IMAP: store_envelopes() with the HeaderInfo a header fetch would give
(most read, some starred or answered), then store_bodies() (raw bytes, text, attachments,
search text), a batch at a time.
"""

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BATCH = 1000
RARE_WORD = "zanzibar"
RARE_EVERY = 10_000
USER_PREFIX = "reader-"
# Share of the messages per (account, folder name, role).
PLAN = (
    ("a", "INBOX", "inbox", 0.68),
    ("a", "Archive", "archive", 0.01),
    ("a", "Sent", "sent", 0.01),
    ("b", "INBOX", "inbox", 0.29),
    ("b", "Archive", "archive", 0.005),
    ("b", "Sent", "sent", 0.005),
)
EMPTY_FOLDERS = (("Trash", "trash"), ("Junk", "junk"))


@dataclass
class Mailbox:
    """What the seeding made: the person and their folders by (account key, folder name)."""

    user: Any
    folders: dict[tuple[str, str], Any]
    messages: int = 0
    seconds: float = 0.0
    rare_messages: int = 0

    @property
    def inboxes(self) -> list[Any]:
        return [folder for (_, name), folder in self.folders.items() if name == "INBOX"]


def seed(total: int, *, batch: int = BATCH) -> Mailbox:
    """About `total` messages in two accounts' folders, through the sync's store path."""
    from accounts.models import User
    from mailbox.services.actions.local import refresh_counts
    from tests.accounts.factories import make_account

    started = time.perf_counter()
    box = Mailbox(User.objects.create_user(f"{USER_PREFIX}{os.getpid()}"), {})
    accounts = {key: make_account(box.user, f"{key}-{os.getpid()}@example.test") for key in "ab"}
    _make_folders(box, accounts)
    for number, (key, name, _, share) in enumerate(PLAN):
        count = max(1, round(total * share))
        raws = _volume(count, seed=number, to=accounts[key].email, first_index=box.messages)
        for chunk in _chunks(raws, batch):
            box.rare_messages += sum(_RARE_LINE in raw for raw in chunk)
            _store_batch(box.folders[key, name], chunk)
        box.messages += count
    refresh_counts(folder.pk for folder in box.folders.values())
    box.seconds = time.perf_counter() - started
    return box


def _make_folders(box: Mailbox, accounts: dict[str, Any]) -> None:
    from mailbox.models import Folder

    for key, name, role, _ in PLAN:
        box.folders[key, name] = Folder.objects.create(
            account=accounts[key], name=name, role=role, delimiter="/"
        )
    for account in accounts.values():
        for name, role in EMPTY_FOLDERS:
            Folder.objects.create(account=account, name=name, role=role, delimiter="/")


_TEXT_START = b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
_RARE_LINE = RARE_WORD.capitalize().encode() + b" trip.\r\n\r\n"


def _volume(count: int, *, seed: int, to: str, first_index: int) -> Iterator[bytes]:
    from tests.harness import messages

    for index, raw in enumerate(messages.volume(count, seed=seed, to=messages.person(to))):
        if (first_index + index) % RARE_EVERY == 7:
            # At the start of the first text part (quoted-printable: plain ASCII stays as is).
            raw = raw.replace(_TEXT_START, _TEXT_START + _RARE_LINE, 1)
        yield raw


def _chunks(items: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _store_batch(folder: Any, raws: list[bytes]) -> None:
    """Envelopes as the header fetch gives them (UIDs after the folder's highest), then the
    bodies, as the sync stores them."""
    from django.db.models import Max

    from mailbox.models import MessageLocation
    from mailbox.protocols.imap_envelopes import envelopes_of
    from mailbox.protocols.imap_fetch import HeaderInfo
    from mailbox.services.sync.bodies import store_bodies
    from mailbox.services.sync.envelopes import store_envelopes

    highest = MessageLocation.objects.filter(folder=folder).aggregate(top=Max("uid"))["top"] or 0
    rng = random.Random(highest)
    infos = [
        HeaderInfo(
            uid=highest + offset + 1,
            flags=_flags(rng),
            size=len(raw),
            internal_date=None,
            modseq=None,
            headers=raw.split(b"\r\n\r\n", 1)[0] + b"\r\n",
        )
        for offset, raw in enumerate(raws)
    ]
    store_envelopes(folder, envelopes_of(infos))
    uids = [info.uid for info in infos]
    stored = MessageLocation.objects.filter(folder=folder, uid__in=uids)
    message_of_uid = dict(stored.values_list("uid", "message_id"))
    bodies = [(message_of_uid[uid], raw) for uid, raw in zip(uids, raws, strict=True)]
    store_bodies(folder.account_id, bodies)


def _flags(rng: random.Random) -> frozenset[str]:
    """Most mail read, some starred or answered, as in a long-used mailbox."""
    flags = {"\\Seen"} if rng.random() < 0.8 else set()
    if rng.random() < 0.04:
        flags.add("\\Flagged")
    if rng.random() < 0.1:
        flags.add("\\Answered")
    return frozenset(flags)


def seeded_mailbox() -> Mailbox:
    """The mailbox a previous run seeded in this database (--reuse)."""
    from accounts.models import User
    from mailbox.models import Folder, Message

    user = User.objects.filter(username__startswith=USER_PREFIX).latest("pk")
    folders = Folder.objects.filter(account__user=user).select_related("account")
    keyed = {(folder.account.email[0], folder.name): folder for folder in folders}
    return Mailbox(user, keyed, Message.objects.filter(account__user=user).count())


def vacuum_analyze() -> None:
    """Planner statistics and visibility map as autovacuum soon has them after a first sync."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# Its own database and settings ----------------------------------------------------------------


def create_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{_psycopg_url(server)}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{_psycopg_url(server)}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _psycopg_url(server: str) -> str:
    return server.rstrip("/").replace("postgres://", "postgresql://", 1)


def configure_django(folder: Path, database_url: str) -> None:
    """Production-like settings from the environment (DEBUG off, compressed static manifest),
    plain HTTP for the test client, this run's cache prefix, and a Celery broker in memory:
    the tasks a page queues (sync on open, flag replay) go nowhere instead of into Redis."""
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "webmail.settings",
            "WEBMAIL_ENV_FILE": str(folder / "none.env"),
            "DEBUG": "false",
            "SECRET_KEY": Fernet.generate_key().decode() * 2,
            "MAIL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": database_url,
            "DATA_DIR": str(folder / "data"),
            "STATIC_ROOT": str(folder / "static"),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "CACHE_KEY_PREFIX": f"benchreading{os.getpid()}",
            "CELERY_BROKER_URL": "memory://localhost/",
            "CELERY_RESULT_BACKEND": "cache+memory://",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def close_django() -> None:
    """Closes the connections (so the database can go) and forgets this run's cache keys,
    never flushing a Redis others share."""
    import redis
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
