"""The outbox against the real Postfix: every message delivered exactly once, or marked
unknown when only the server could know; the fault proxy cuts where it matters."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.protocols.mime_build import (
    BuiltMessage,
    OutgoingAttachment,
    OutgoingDraft,
    build_message,
    new_message_id,
)
from mailbox.protocols.types import Security, Server
from mailbox.services import outbox, outbox_send
from tests.accounts.factories import make_account
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

S = OutgoingState


@pytest.fixture(autouse=True)
def short_timeouts(settings):  # type: ignore[no-untyped-def]
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 3


@pytest.fixture
def alice(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="alice")


@pytest.fixture
def bob(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="bob")


def account_for(user: MailUser, host: str, port: int) -> MailAccount:
    return make_account(
        User.objects.create_user(f"owner-{user.address}"),
        user.address,
        password=user.password,
        smtp=Server(host, port, Security.TLS),
    )


def queue(account: MailAccount, to: MailUser, subject: str, **extra: object) -> OutgoingMessage:
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", to.address),),
        subject=subject,
        text="Hello Bob.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
        **extra,  # type: ignore[arg-type]
    )
    return outbox.do_queue_message(account, build_message(draft, allow_private_hosts=True))


def delivered(servers: MailServers, user: MailUser, count: int) -> list[bytes]:
    """Exactly `count` messages once Postfix's queue is empty (none arrive later)."""
    if count:
        servers.wait_for_messages(user.address, count)
    servers.wait_for_empty_queue()
    stored = [m.raw for m in servers.messages(user.address)]
    assert len(stored) == count
    return stored


def state_of(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage.objects.get(pk=message.pk)


def test_a_queued_message_is_delivered_once_and_marked_sent(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    e = mail_servers.endpoints
    message = queue(account_for(alice, e.host, e.submissions_port), bob, "hello")

    assert outbox.claim_due("worker-1") == [message.pk]
    outcome = outbox.send_claimed(message.pk, "worker-1")

    assert outcome.state == S.SENT
    row = state_of(message)
    assert (row.state, row.attempts, row.claimed_by, row.last_error) == (S.SENT, 1, "", "")
    assert row.sent_at is not None
    [stored] = delivered(mail_servers, bob, 1)
    assert stored.endswith(bytes(row.raw))


def test_the_same_message_sent_twice_is_delivered_once(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    """A redelivered task, or the sweep racing the task: the second finds it taken."""
    e = mail_servers.endpoints
    account = account_for(alice, e.host, e.submissions_port)
    message = queue(account, bob, "twice")

    first = outbox.send_message(message.pk, "task-1")
    again = outbox.send_message(message.pk, "task-1")  # the same task, redelivered
    other = outbox.send_claimed(message.pk, "task-2")  # never claimed it
    requeued = outbox.do_queue_message(account, build_message_again(message))

    assert first.state == S.SENT
    assert again.state == other.state == ""
    assert requeued.pk == message.pk
    assert outbox.claim_due("sweep") == []
    delivered(mail_servers, bob, 1)


def build_message_again(message: OutgoingMessage) -> BuiltMessage:
    """The same Message-ID queued a second time (a double click on Send)."""
    return BuiltMessage(
        raw=bytes(message.raw),
        sent_copy=bytes(message.sent_copy),
        envelope_from=message.envelope_from,
        envelope_to=tuple(message.envelope_to),
        needs_smtputf8=False,
        message_id=message.message_id,
    )


def test_an_unknown_recipient_fails_with_the_servers_words(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    e = mail_servers.endpoints
    account = account_for(alice, e.host, e.submissions_port)
    nobody = MailUser("nobody@example.test", "", "nobody@example.test")
    message = queue(account, nobody, "to nobody")

    outcome = outbox.send_message(message.pk, "worker-1")

    row = state_of(message)
    assert outcome.state == row.state == S.FAILED
    assert row.last_error.startswith("550 5.1.1 <nobody@example.test>: Recipient address rejected")
    assert outbox.claim_due("sweep") == []


def test_a_reply_lost_after_the_dot_is_unknown_and_never_resent(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, fault_proxy
) -> None:
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    proxy.swallow_reply_after_data_dot()
    message = queue(account_for(alice, "127.0.0.1", proxy.port), bob, "did it go")

    outcome = outbox.send_message(message.pk, "worker-1")
    later = timezone.now() + dt.timedelta(days=1)
    expired = outbox.expire_leases(later)
    reclaimed = outbox.claim_due("sweep", later)

    assert outcome.state == state_of(message).state == S.UNKNOWN
    assert "may have taken the message" in state_of(message).last_error
    assert (expired, reclaimed) == (0, [])
    delivered(mail_servers, bob, 1)


def test_a_cut_during_data_is_retried_later_and_delivered_once(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, fault_proxy
) -> None:
    e = mail_servers.endpoints
    proxy: FaultProxy = fault_proxy(e.host, e.submissions_port, tls="implicit")
    # More than the socket buffers hold, so the cut shows while the body is being sent.
    proxy.cut_after(1000, direction="client_to_server", times=1)
    big = OutgoingAttachment("big.bin", "application/octet-stream", b"\x00\xff" * 6_000_000)
    message = queue(account_for(alice, "127.0.0.1", proxy.port), bob, "cut", attachments=(big,))

    before = timezone.now()
    cut = outbox.send_message(message.pk, "worker-1")
    row = state_of(message)

    assert cut.state == row.state == S.QUEUED
    assert row.attempts == 1 and row.claimed_by == ""
    assert row.next_attempt_at > before
    assert outbox.claim_due("worker-2", before) == []  # not due yet
    delivered(mail_servers, bob, 0)

    assert outbox.claim_due("worker-2", row.next_attempt_at) == [message.pk]
    retried = outbox.send_claimed(message.pk, "worker-2")

    assert retried.state == state_of(message).state == S.SENT
    assert state_of(message).attempts == 2
    assert proxy.faults_fired == 1
    delivered(mail_servers, bob, 1)


def test_temporary_failures_stop_once_the_retry_period_is_over(
    alice: MailUser, bob: MailUser, settings
) -> None:
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 1
    account = account_for(alice, "127.0.0.1", 9)  # nothing listens there
    message = queue(account, bob, "nowhere")
    OutgoingMessage.objects.filter(pk=message.pk).update(
        send_at=timezone.now() - dt.timedelta(hours=settings.MAIL_SEND_RETRY_FOR_HOURS)
    )

    outcome = outbox.send_message(message.pk, "worker-1")

    assert outcome.state == state_of(message).state == S.FAILED
    assert state_of(message).last_error


def test_a_worker_that_died_after_writing_dot_sent_leaves_it_unknown(
    mail_servers: MailServers, alice: MailUser, bob: MailUser
) -> None:
    e = mail_servers.endpoints
    message = queue(account_for(alice, e.host, e.submissions_port), bob, "died at the dot")
    assert outbox.claim(message.pk, "dead-worker")
    past = timezone.now() - dt.timedelta(seconds=1)
    OutgoingMessage.objects.filter(pk=message.pk).update(state=S.DOT_SENT, claimed_until=past)

    assert outbox.claim_due("sweep") == []  # never resent
    assert outbox.expire_leases() == 1

    row = state_of(message)
    assert (row.state, row.claimed_by) == (S.UNKNOWN, "")
    assert row.last_error == outbox.UNKNOWN_AFTER_DOT
    assert outbox.claim_due("sweep") == []


@pytest.mark.parametrize("left_in", [S.CLAIMED, S.SENDING])
def test_a_worker_that_died_before_the_dot_is_taken_over_and_delivers_once(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, left_in: str
) -> None:
    e = mail_servers.endpoints
    message = queue(account_for(alice, e.host, e.submissions_port), bob, f"died in {left_in}")
    assert outbox.claim(message.pk, "dead-worker")
    OutgoingMessage.objects.filter(pk=message.pk).update(state=left_in)
    assert outbox.claim_due("sweep") == []  # its lease still holds

    past = timezone.now() - dt.timedelta(seconds=1)
    OutgoingMessage.objects.filter(pk=message.pk).update(claimed_until=past)
    assert outbox.expire_leases() == 0
    assert outbox.claim_due("sweep") == [message.pk]
    dead = outbox.send_claimed(message.pk, "dead-worker")  # it woke up: no longer its own
    outcome = outbox.send_claimed(message.pk, "sweep")

    assert dead.state == ""
    assert outcome.state == state_of(message).state == S.SENT
    delivered(mail_servers, bob, 1)


def test_a_worker_whose_message_was_taken_over_does_not_send_the_dot(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, monkeypatch
) -> None:
    """The slow worker's lease expired mid-DATA and another took the message: at the dot, its
    dot_sent write finds the row no longer its own, so only the other one delivers."""
    e = mail_servers.endpoints
    message = queue(account_for(alice, e.host, e.submissions_port), bob, "taken over")
    real_submit = outbox_send.smtp_send.submit

    def slow_submit(client, sender, recipients, raw, before_final_dot, **hooks):  # type: ignore[no-untyped-def]
        def taken_over_first() -> None:
            past = timezone.now() - dt.timedelta(seconds=1)
            OutgoingMessage.objects.filter(pk=message.pk).update(claimed_until=past)
            assert outbox.claim_due("fast-worker") == [message.pk]
            before_final_dot()

        return real_submit(
            client, sender, recipients, raw, before_final_dot=taken_over_first, **hooks
        )

    assert outbox.claim(message.pk, "slow-worker")
    monkeypatch.setattr(outbox_send.smtp_send, "submit", slow_submit)
    slow = outbox.send_claimed(message.pk, "slow-worker")
    monkeypatch.setattr(outbox_send.smtp_send, "submit", real_submit)
    fast = outbox.send_claimed(message.pk, "fast-worker")

    assert slow.state == "" and "before the end of data" in slow.detail
    assert fast.state == state_of(message).state == S.SENT
    delivered(mail_servers, bob, 1)
