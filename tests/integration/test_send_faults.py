"""Sending fails on the way, through the real worker and the real Postfix: each case ends with
exactly one delivered copy per Message-ID in Bob's mailbox, or the message marked unknown and
nothing sent again. The retries come from the sweep (`send_due`, what beat runs), run by the
worker; the test settings' retry delay is one second (tests/settings.py)."""

import email
import email.policy
import random
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import OutgoingMessage
from mailbox.protocols.mime_build import (
    OutgoingAttachment,
    OutgoingDraft,
    build_message,
    new_message_id,
)
from mailbox.services import outbox
from mailbox.tasks.send import send_due, send_message_task
from tests.harness.celery_worker import CeleryWorker
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.sending import SenderReplies, account_for, copies, outgoing, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]

BUSY = "421 4.7.0 Too busy right now, try again later (test)"
# More than the socket buffers hold, so a cut shows while the body is still being sent.
BIG = OutgoingAttachment(
    "big.bin", "application/octet-stream", random.Random(7).randbytes(3_000_000)
)


def queue_and_send(
    account: MailAccount, to: tuple[MailUser | str, ...], subject: str, big: bool = False
) -> OutgoingMessage:
    """Queued as Send does, and handed to the worker (the compose view's fast path); returns
    once the worker's task is over."""
    addresses = [person if isinstance(person, str) else person.address for person in to]
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=tuple(("", address) for address in addresses),
        subject=subject,
        text="Hello Bob.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
        attachments=(BIG,) if big else (),
    )
    message = outbox.do_queue_message(
        account, build_message(draft, allow_private_hosts=True), send_at=timezone.now()
    )
    send_message_task.delay(message.pk).get(timeout=60)
    return message


def sweep_when_due(message: OutgoingMessage, worker: CeleryWorker) -> None:
    """Beat's next sweep once the message's next attempt is due, run by the worker."""
    due = outgoing(message.pk).next_attempt_at
    wait_for(lambda: timezone.now() >= due, "the next attempt due", timeout=10)
    send_due.delay().get(timeout=60)


@pytest.fixture
def people(mail_user: Callable[..., MailUser]) -> tuple[MailUser, MailUser]:
    return mail_user(local="fault-alice"), mail_user(local="fault-bob")


def test_a_421_is_retried_later_and_delivered_once(
    celery_worker: CeleryWorker, private_mail_servers: Callable[..., MailServers]
) -> None:
    servers = private_mail_servers()
    alice = servers.add_user("busy-alice@example.test", "pw-busy-alice")
    bob = servers.add_user("busy-bob@example.test", "pw-busy-bob")
    replies = SenderReplies(servers)
    replies.set({alice.address: BUSY})
    wait_for(lambda: replies.answer_to(alice) == 421, "Postfix answering 421", timeout=10)
    account = account_for(alice, servers, "busy-alice")

    message = queue_and_send(account, (bob,), "busy")

    row = outgoing(message.pk)
    words = f"421 4.7.0 <{alice.address}>: Sender address rejected: {BUSY.split(' ', 2)[2]}"
    assert (row.state, row.attempts, row.last_error) == ("queued", 1, words)  # Postfix's
    assert row.next_attempt_at > row.send_at
    replies.set({})
    wait_for(lambda: replies.answer_to(alice) == 250, "Postfix taking mail again", timeout=10)
    sweep_when_due(message, celery_worker)

    row = outgoing(message.pk)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, "")
    assert len(copies(servers, bob, message.message_id)) == 1


def test_an_unknown_recipient_is_reported_in_postfixs_words_and_the_others_get_it_once(
    celery_worker: CeleryWorker, mail_servers: MailServers, people: tuple[MailUser, MailUser]
) -> None:
    alice, bob = people
    nobody = "nobody-here@example.test"
    account = account_for(alice, mail_servers, "unknown-alice")

    message = queue_and_send(account, (bob, nobody), "one of two")

    row = outgoing(message.pk)
    assert row.state == "sent"
    assert f"550 5.1.1 <{nobody}>: Recipient address rejected" in row.last_error
    send_due.delay().get(timeout=60)
    assert outgoing(message.pk).state == "sent"
    assert len(copies(mail_servers, bob, message.message_id)) == 1


def test_a_cut_during_data_is_retried_by_the_sweep_and_delivered_once(
    celery_worker: CeleryWorker,
    mail_servers: MailServers,
    people: tuple[MailUser, MailUser],
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    alice, bob = people
    e = mail_servers.endpoints
    proxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    proxy.cut_after(1000, direction="client_to_server", times=1)
    account = account_for(alice, mail_servers, "cut-alice", smtp_port=proxy.port)

    message = queue_and_send(account, (bob,), "cut in data", big=True)

    row = outgoing(message.pk)
    assert (row.state, row.attempts, proxy.faults_fired) == ("queued", 1, 1)
    assert copies(mail_servers, bob, message.message_id) == []
    sweep_when_due(message, celery_worker)

    assert (outgoing(message.pk).state, outgoing(message.pk).attempts) == ("sent", 2)
    [delivered] = copies(mail_servers, bob, message.message_id)
    received = email.message_from_bytes(delivered.raw, policy=email.policy.default)
    [attachment] = received.iter_attachments()  # type: ignore[attr-defined]
    assert attachment.get_content() == BIG.data


def test_a_reply_lost_after_the_dot_is_unknown_and_the_sweep_never_resends(
    celery_worker: CeleryWorker,
    mail_servers: MailServers,
    people: tuple[MailUser, MailUser],
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    alice, bob = people
    e = mail_servers.endpoints
    proxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    proxy.swallow_reply_after_data_dot(times=1)
    account = account_for(alice, mail_servers, "dot-alice", smtp_port=proxy.port)

    message = queue_and_send(account, (bob,), "did it go")

    assert outgoing(message.pk).state == "unknown"
    send_due.delay().get(timeout=60)
    send_due.delay().get(timeout=60)

    row = outgoing(message.pk)
    assert (row.state, row.attempts, proxy.faults_fired) == ("unknown", 1, 1)
    assert "may have taken the message" in row.last_error
    assert len(copies(mail_servers, bob, message.message_id)) == 1  # the server did take it
