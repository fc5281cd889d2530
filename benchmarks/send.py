"""How fast mail leaves (issue 6, point 8), against a real Postfix, Dovecot and Celery worker.

(a) Send → 250: the compose page's POST (Django's test client, MAIL_UNDO_SEND_SECONDS=0) to
    the moment the worker records Postfix's 250 (the row's sent_at, written right after the
    reply), one message at a time, each once the previous one's Sent copy is stored: p50 and
    p95. Baseline in the same run: plain smtplib sending the same kind of message over a new
    connection (TLS, AUTH) each time, which is what one Send costs at the least.
(b) Throughput: --queued messages of one account, queued at once, sent by beat's sweep
    (`send_due`, run in this process until none is left), the Sent copies (IMAP APPEND) timed
    apart from the sending, from the rows' own timestamps; next to plain smtplib sending the
    same messages over one reused connection to the same Postfix, the two taking turns in
    ROUNDS rounds so that both meet the same delivery load.

    .venv/bin/python -m benchmarks.send [--messages 100] [--queued 1000] [--database-url URL]

It makes its own SQLite database (or uses --database-url, an empty database made for it),
storage folder, CA, Dovecot and
Postfix, private Redis (the broker) and worker, as root. The worker runs the test settings
(tests/settings.py, the harness's CeleryWorker) on the same database and environment.
"""

import argparse
import email.policy
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.reading import percentile
from benchmarks.send_outbox import Throughput, compare_throughput, smtplib_session

LATENCY_TARGET_MS = 1000.0
THROUGHPUT_TARGET = 0.5  # of plain smtplib's rate
ROUNDS = 5  # the throughput's turns of smtplib and the outbox (benchmarks/send_outbox.py)
WARM_UP = 3  # first Sends not counted: the worker's first task loads and connects


def configure_django(folder: Path, database_url: str | None, ca_file: Path, redis_url: str) -> None:
    """Production-like settings from the environment (DEBUG off), plain HTTP for the test
    client, no undo window; Celery's broker, results and the cache on the private Redis."""
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "webmail.settings",
            "WEBMAIL_ENV_FILE": str(folder / "none.env"),
            "WEBMAIL_TEST_RUN_DIR": str(folder / "run"),  # the worker's test settings
            "DEBUG": "false",
            "SECRET_KEY": Fernet.generate_key().decode() * 2,
            "MAIL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
            "DATA_DIR": str(folder / "data"),
            "STATIC_ROOT": str(folder / "static"),  # nothing rendered: Send redirects
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "MAIL_ALLOW_PRIVATE_HOSTS": "true",
            "MAIL_UNDO_SEND_SECONDS": "0",
            "SSL_CERT_FILE": str(ca_file),
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_RESULT_BACKEND": redis_url,
            "CELERY_KEY_PREFIX": "benchsend.",
            "CACHE_KEY_PREFIX": "benchsend",
            "LOG_LEVEL": "WARNING",
        }
    )
    (folder / "static").mkdir()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_account(servers: Any, local: str) -> tuple[Any, Any]:
    from accounts.models import User
    from accounts.services.mail_accounts import AccountSettings, do_create_account
    from mailbox.protocols.types import Credentials, Protocol, Security, Server

    box = servers.add_user(f"{local}@example.test", f"pw-{local}")
    e = servers.endpoints
    imaps = Server(e.host, e.imaps_port, Security.TLS)
    smtp = Server(e.host, e.submissions_port, Security.TLS)
    values = AccountSettings(box.address, local, Protocol.IMAP, imaps, box.login, smtp, box.login)
    credentials = Credentials(box.login, box.password)
    return box, do_create_account(User.objects.create_user(local), values, credentials, credentials)


# (a) Send → 250 --------------------------------------------------------------------------------


def compose_values(user: Any, **fields: str) -> dict[str, Any]:
    """What the compose page opens with (a fresh Message-ID), then what the person typed."""
    from mailbox.forms_compose import ComposeForm
    from mailbox.services.compose import initial_for

    form = ComposeForm(user, initial=initial_for(user))
    values = {name: form[name].value() for name in form.fields if name != "attachments"}
    return {k: v for k, v in {**values, **fields}.items() if v is not None}


def wait_settled(message_id: str, timeout: float = 30.0) -> Any:
    """The outbox row once sent and its Sent copy stored (or failed: an error)."""
    from mailbox.models import OutgoingMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = OutgoingMessage.objects.filter(message_id=message_id).first()
        if row is not None and row.state in ("failed", "unknown"):
            raise RuntimeError(f"{message_id} {row.state}: {row.last_error}")
        if row is not None and row.state == "sent" and row.sent_copy_state == "appended":
            return row
        time.sleep(0.002)
    raise TimeoutError(f"{message_id} not sent within {timeout}s")


def send_latencies(user: Any, to: str, count: int) -> list[float]:
    """Milliseconds from each Send's POST to its sent_at, as the worker recorded it."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    client = Client()
    client.force_login(user)
    url = reverse("mail:compose")
    latencies = []
    for index in range(WARM_UP + count):
        values = compose_values(user, to=to, subject=f"Latency {index}", text="Hello.\n")
        started = timezone.now()
        response = client.post(url, values)
        if response.status_code != 302:
            raise RuntimeError(f"Send answered {response.status_code}")
        row = wait_settled(values["message_id"])
        if index >= WARM_UP:
            latencies.append((row.sent_at - started).total_seconds() * 1000)
    return latencies


def smtplib_latencies(servers: Any, sender: Any, raw: bytes, to: str, count: int) -> list[float]:
    """Milliseconds per message with a new connection each time (connect, TLS, AUTH, send)."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        with smtplib_session(servers, sender) as client:
            client.sendmail(sender.address, [to], raw)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


# The run ---------------------------------------------------------------------------------------


def report(
    latencies: list[float], baseline: list[float], outbox: Throughput, plain_rate: float
) -> list[str]:
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    base50, base95 = percentile(baseline, 50), percentile(baseline, 95)
    ratio = outbox.rate / plain_rate
    copies = outbox.messages / outbox.copy_seconds if outbox.copy_seconds else float("inf")
    lines = [
        f"{'figure':<44} {'value':>12} {'baseline':>12} {'ratio':>6}  target",
        f"{'Send -> 250, p50 (' + str(len(latencies)) + ' messages)':<44} {p50:9.1f} ms "
        f"{base50:9.1f} ms {p50 / base50:6.1f}",
        f"{'Send -> 250, p95':<44} {p95:9.1f} ms {base95:9.1f} ms {p95 / base95:6.1f}  "
        f"< {LATENCY_TARGET_MS:.0f} ms {'ok' if p95 < LATENCY_TARGET_MS else 'MISSED'}",
        f"{f'outbox, {outbox.messages} queued: sending':<44} {outbox.rate:7.0f} msg/s "
        f"{plain_rate:7.0f} msg/s {ratio:6.2f}  >= {THROUGHPUT_TARGET} "
        f"{'ok' if ratio >= THROUGHPUT_TARGET else 'MISSED'}",
        f"{'outbox: Sent copies (APPEND), apart':<44} {copies:7.0f} msg/s "
        f"{outbox.copy_seconds:9.2f} s",
        f"{'outbox: all of it, ' + str(outbox.sweeps) + ' sweeps':<44} "
        f"{outbox.messages / outbox.total_seconds:7.0f} msg/s {outbox.total_seconds:9.2f} s",
        "baselines: plain smtplib, a new connection per message (Send -> 250); one reused "
        "connection for the same messages (outbox)",
    ]
    return lines


def measure(servers: Any, count: int, queued: int) -> list[str]:
    alice, account = make_account(servers, "alice")
    bob, _ = make_account(servers, "bob")
    latencies = send_latencies(account.user, bob.address, count)
    sample = email.message_from_string("Subject: Latency\n\nHello.\n", policy=email.policy.SMTP)
    sample["From"], sample["To"] = alice.address, bob.address
    baseline = smtplib_latencies(servers, alice, sample.as_bytes(), bob.address, count)
    servers.wait_for_empty_queue(timeout=120)

    rounds = max(1, min(ROUNDS, queued // 10))
    outbox, plain_rate = compare_throughput(servers, alice, account, bob.address, queued, rounds)
    load = " ".join(f"{load:.1f}" for load in os.getloadavg())
    return [f"load average: {load} ({os.cpu_count()} cores)"] + report(
        latencies, baseline, outbox, plain_rate
    )


def run(count: int, queued: int, database_url: str | None) -> list[str]:
    from tests.harness.celery_worker import CeleryWorker
    from tests.harness.certs import TestCA
    from tests.harness.mailservers import MailServerOptions, MailServers
    from tests.harness.redis_server import PrivateRedis

    with tempfile.TemporaryDirectory(prefix="wm-b", dir="/tmp") as name:
        folder = Path(name)
        folder.chmod(0o755)  # Dovecot's and Postfix's own users must reach their folders
        ca = TestCA(folder / "ca")
        with PrivateRedis(folder / "redis") as redis:
            configure_django(folder, database_url, ca.ca_file, redis.url)
            from django.db import connection

            from webmail.celery import app

            servers = MailServers(folder / "m", ca, MailServerOptions())
            servers.start()
            worker = CeleryWorker(
                app,
                database_name=str(connection.settings_dict["NAME"]),
                log_file=folder / "worker.log",
                queues=("send",),
                concurrency=1,
                name="bench-send",
                broker_url=redis.url,
            )
            try:
                worker.start()
                return measure(servers, count, queued)
            finally:
                worker.stop()
                servers.stop()
                connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100, help="Sends timed one by one")
    parser.add_argument("--queued", type=int, default=1000, help="messages for the throughput")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    for line in run(args.messages, args.queued, args.database_url):
        print(line, flush=True)


if __name__ == "__main__":
    main()
