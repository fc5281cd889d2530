"""The outbox's throughput for benchmarks/send.py (figure (b)): many messages of one account
queued at once and sent by beat's sweep, the Sent copies timed apart, next to plain smtplib
sending the same messages over one reused connection.

The two take turns in rounds (smtplib, then the outbox, on the same messages), each once
Postfix has delivered everything before it: on two cores Postfix's and Dovecot's delivery
work competes with the sending, so one long run of each would compare different loads."""

import smtplib
import ssl
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Throughput:
    messages: int
    sweeps: int
    send_seconds: float  # the sweeps' time up to each one's last 250
    copy_seconds: float  # the sweeps' time after it: storing the Sent copies
    total_seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.send_seconds


def smtplib_session(servers: Any, box: Any) -> smtplib.SMTP_SSL:
    e = servers.endpoints
    context = ssl.create_default_context(cafile=str(e.ca_file))
    client = smtplib.SMTP_SSL(e.host, e.submissions_port, context=context, timeout=30)
    client.login(box.login, box.password)
    return client


def queue_many(account: Any, to: str, count: int) -> list[int]:
    from django.utils import timezone

    from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
    from mailbox.services.outbox import do_queue_message

    now = timezone.now()
    pks = []
    for index in range(count):
        draft = OutgoingDraft(
            from_=("Alice", account.email),
            to=(("Bob", to),),
            subject=f"Throughput {index}",
            text=f"Message {index} of {count}.\n" + "A line of text to make it a letter.\n" * 20,
            message_id=new_message_id("example.test"),
            date=now,
        )
        built = build_message(draft, allow_private_hosts=True)
        pks.append(do_queue_message(account, built, send_at=now).pk)
    return pks


def compare_throughput(
    servers: Any, sender: Any, account: Any, to: str, count: int, rounds: int
) -> tuple[Throughput, float]:
    """The outbox's figures and plain smtplib's rate for `count` messages, in `rounds` turns."""
    plain_seconds = 0.0
    turns = []
    for index in range(rounds):
        pks = queue_many(account, to, count // rounds + (index < count % rounds))
        servers.wait_for_empty_queue(timeout=300)
        plain_seconds += len(pks) / smtplib_throughput(servers, sender, pks)
        servers.wait_for_empty_queue(timeout=300)
        turns.append(outbox_throughput(pks))
    servers.wait_for_empty_queue(timeout=300)
    total = Throughput(
        messages=sum(t.messages for t in turns),
        sweeps=sum(t.sweeps for t in turns),
        send_seconds=sum(t.send_seconds for t in turns),
        copy_seconds=sum(t.copy_seconds for t in turns),
        total_seconds=sum(t.total_seconds for t in turns),
    )
    return total, total.messages / plain_seconds


def smtplib_throughput(servers: Any, sender: Any, pks: list[int]) -> float:
    """Messages a second for the same messages over one reused connection."""
    from mailbox.models import OutgoingMessage

    rows = OutgoingMessage.objects.filter(pk__in=pks).order_by("pk")
    messages = [(r.envelope_from, list(r.envelope_to), bytes(r.raw)) for r in rows]
    started = time.perf_counter()
    with smtplib_session(servers, sender) as client:
        for envelope_from, envelope_to, raw in messages:
            client.sendmail(envelope_from, envelope_to, raw)
    return len(messages) / (time.perf_counter() - started)


def outbox_throughput(pks: list[int]) -> Throughput:
    """Beat's sweep run here until every message went; per sweep, the time to its last 250
    (sending) and from there to its last Sent copy (the APPENDs), from the rows."""
    from django.utils import timezone

    from mailbox.models import OutgoingMessage
    from mailbox.tasks.send import send_due

    rows = OutgoingMessage.objects.filter(pk__in=pks)
    send_seconds = copy_seconds = 0.0
    sweeps = 0
    began = time.perf_counter()
    while rows.filter(state="queued").exists():
        started = timezone.now()
        send_due.apply().get()
        sweeps += 1
        done = rows.filter(sent_at__gte=started)
        last_sent = max(done.values_list("sent_at", flat=True), default=started)
        last_copy = max(done.values_list("sent_copy_at", flat=True), default=last_sent)
        send_seconds += (last_sent - started).total_seconds()
        copy_seconds += max((last_copy - last_sent).total_seconds(), 0.0)
    total = time.perf_counter() - began
    failed = rows.exclude(state="sent").count() + rows.exclude(sent_copy_state="appended").count()
    if failed:
        raise RuntimeError(f"{failed} messages not sent, or without their Sent copy")
    return Throughput(len(pks), sweeps, send_seconds, copy_seconds, total)
