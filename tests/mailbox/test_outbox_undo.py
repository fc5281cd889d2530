"""Undo and scheduled send against the real Postfix: a message taken back in time never goes,
and none goes before its send_at (time is passed in as `now=`, never slept)."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.protocols.types import Security, Server
from mailbox.services import outbox
from tests.accounts.factories import make_account
from tests.harness.mailservers import MailServers, MailUser

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

S = OutgoingState
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def short_timeouts(settings):  # type: ignore[no-untyped-def]
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 3


@pytest.fixture
def bob(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="bob")


@pytest.fixture
def account(mail_servers: MailServers, mail_user: Callable[..., MailUser]) -> MailAccount:
    alice = mail_user(local="alice")
    e = mail_servers.endpoints
    return make_account(
        User.objects.create_user("alice-owner"),
        alice.address,
        password=alice.password,
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )


def draft_to(account: MailAccount, to: MailUser, message_id: str = "") -> OutgoingDraft:
    return OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", to.address),),
        subject="take it back",
        text="Hello Bob.\n",
        message_id=message_id or new_message_id("example.test"),
        date=timezone.now(),
    )


def queue(account: MailAccount, to: MailUser, **kwargs: object) -> OutgoingMessage:
    built = build_message(draft_to(account, to), allow_private_hosts=True)
    return outbox.do_queue_message(account, built, **kwargs)  # type: ignore[arg-type]


def state_of(message: OutgoingMessage) -> str:
    return OutgoingMessage.objects.get(pk=message.pk).state


def delivered(servers: MailServers, user: MailUser, count: int) -> None:
    if count:
        servers.wait_for_messages(user.address, count)
    servers.wait_for_empty_queue()
    assert len(servers.messages(user.address)) == count


def test_the_default_send_at_is_the_undo_window(
    account: MailAccount, bob: MailUser, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.MAIL_UNDO_SEND_SECONDS = 10
    before = timezone.now()
    message = queue(account, bob)
    assert before + 10 * SECOND <= message.send_at <= timezone.now() + 10 * SECOND
    assert outbox.claim_due("sweep") == []  # not before the window is over


def test_a_message_cancelled_within_the_window_is_never_sent(
    mail_servers: MailServers, account: MailAccount, bob: MailUser
) -> None:
    now = timezone.now()
    message = queue(account, bob, send_at=now + 10 * SECOND)

    assert outbox.do_cancel(message, now=now + 9 * SECOND)

    assert state_of(message) == S.CANCELLED
    assert not outbox.do_cancel(message, now=now + 9 * SECOND)  # once
    later = now + dt.timedelta(hours=1)
    assert outbox.claim_due("sweep", now=later) == []
    assert not outbox.claim(message.pk, "task", now=later)
    assert outbox.send_message(message.pk, "task").state == ""
    kept = OutgoingMessage.objects.get(pk=message.pk)
    assert bytes(kept.raw) == bytes(message.raw)  # kept for compose to reopen
    delivered(mail_servers, bob, 0)


def test_after_the_window_it_cannot_be_cancelled_and_is_sent_once(
    mail_servers: MailServers, account: MailAccount, bob: MailUser
) -> None:
    now = timezone.now()
    message = queue(account, bob, send_at=now)

    assert not outbox.do_cancel(message, now=now)
    assert not outbox.do_cancel(message, now=now + SECOND)
    assert outbox.send_message(message.pk, "task").state == S.SENT
    assert not outbox.do_cancel(message)

    assert state_of(message) == S.SENT
    delivered(mail_servers, bob, 1)


def test_a_claimed_message_cannot_be_cancelled(account: MailAccount, bob: MailUser) -> None:
    now = timezone.now()
    message = queue(account, bob, send_at=now + 10 * SECOND)

    assert outbox.claim(message.pk, "worker", now=now + 10 * SECOND)

    assert not outbox.do_cancel(message, now=now)  # even with a clock behind the worker's
    assert state_of(message) == S.CLAIMED


def test_a_cancelled_message_queued_again_is_the_same_row_queued(
    account: MailAccount, bob: MailUser
) -> None:
    now = timezone.now()
    built = build_message(draft_to(account, bob), allow_private_hosts=True)
    message = outbox.do_queue_message(account, built, send_at=now + 10 * SECOND)
    assert outbox.do_cancel(message, now=now)

    again = outbox.do_queue_message(account, built, send_at=now + 20 * SECOND)

    assert again.pk == message.pk
    assert (again.state, again.send_at, again.next_attempt_at) == (
        S.QUEUED,
        now + 20 * SECOND,
        now + 20 * SECOND,
    )


def test_a_scheduled_message_is_not_sent_before_its_time_and_once_after(
    mail_servers: MailServers, account: MailAccount, bob: MailUser
) -> None:
    now = timezone.now()
    at = now + dt.timedelta(days=2)
    message = queue(account, bob, send_at=at)

    assert outbox.claim_due("sweep", now=at - SECOND) == []
    assert not outbox.claim(message.pk, "task", now=at - SECOND)
    assert outbox.send_message(message.pk, "task").state == ""  # the fast path, too early
    delivered(mail_servers, bob, 0)

    assert outbox.claim_due("sweep", now=at) == [message.pk]
    assert outbox.send_claimed(message.pk, "sweep").state == S.SENT
    assert outbox.claim_due("sweep-2", now=at + SECOND) == []
    assert state_of(message) == S.SENT
    delivered(mail_servers, bob, 1)
