"""The Sent copy against the real Dovecot + Postfix: appended once, with Bcc and \\Seen, even
when the worker dies right after the 250 or between the APPEND and its record."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage, OutgoingState, SentCopyState
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.protocols.types import Security, Server
from mailbox.services import outbox, sent_copy
from mailbox.tasks.send import send_due
from tests.accounts.factories import make_account
from tests.harness.mailservers import MailServers, MailUser

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

S = OutgoingState
C = SentCopyState


@pytest.fixture(autouse=True)
def short_timeouts(settings):  # type: ignore[no-untyped-def]
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 3


@pytest.fixture
def alice(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="alice")


@pytest.fixture
def bob(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="bob")


@pytest.fixture
def carol(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="carol")


@pytest.fixture
def account(mail_servers: MailServers, alice: MailUser) -> MailAccount:
    e = mail_servers.endpoints
    return make_account(
        User.objects.create_user("alice-owner"),
        alice.address,
        password=alice.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )


def queue(account: MailAccount, to: MailUser, bcc: MailUser) -> OutgoingMessage:
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", to.address),),
        bcc=(("Carol", bcc.address),),
        subject="with a copy",
        text="Hello Bob.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
    )
    return outbox.do_queue_message(account, build_message(draft, allow_private_hosts=True))


def row(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage.objects.get(pk=message.pk)


def sent_folder(servers: MailServers, user: MailUser, message: OutgoingMessage) -> list[bytes]:
    """The copies of `message` in the user's Sent folder on the server, each checked \\Seen."""
    copies = [
        m
        for m in servers.messages(user.address, folder="Sent")
        if message.message_id.encode() in m.raw
    ]
    assert all("\\Seen" in m.flags for m in copies)
    return [m.raw for m in copies]


def lease_runs_out(message: OutgoingMessage) -> None:
    """Time passes for a worker that died holding the copy: its lease is over."""
    OutgoingMessage.objects.filter(pk=message.pk).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )


def test_a_sent_message_is_in_the_sent_folder_once_with_bcc_and_seen(
    mail_servers: MailServers, account: MailAccount, alice: MailUser, bob: MailUser, carol: MailUser
) -> None:
    message = queue(account, bob, carol)

    outcome = outbox.send_message(message.pk, "worker-1")

    assert outcome.state == S.SENT
    after = row(message)
    assert (after.sent_copy_state, after.sent_copy_attempts) == (C.APPENDED, 1)
    assert after.sent_copy_at is not None and after.claimed_by == ""
    [copy] = sent_folder(mail_servers, alice, message)
    assert copy == bytes(after.sent_copy)
    assert f"Bcc: Carol <{carol.address}>".encode() in copy
    send_due.apply()  # nothing left for the sweep
    assert len(sent_folder(mail_servers, alice, message)) == 1


def test_a_worker_dead_right_after_the_250_leaves_the_copy_to_the_sweep(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    bob: MailUser,
    carol: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = queue(account, bob, carol)
    real_append = sent_copy.append
    monkeypatch.setattr(sent_copy, "append", crash)

    assert outbox.send_message(message.pk, "worker-1").state == S.SENT
    assert row(message).sent_copy_state == C.APPENDING  # the dead worker's lease
    assert sent_folder(mail_servers, alice, message) == []
    monkeypatch.setattr(sent_copy, "append", real_append)
    assert send_due.apply().get()["copies"] == 0  # the lease still holds

    lease_runs_out(message)
    assert send_due.apply().get()["copies"] == 1

    after = row(message)
    assert (after.sent_copy_state, after.sent_copy_attempts) == (C.APPENDED, 2)
    assert len(sent_folder(mail_servers, alice, message)) == 1
    assert send_due.apply().get()["copies"] == 0


def test_a_worker_dead_after_the_append_is_found_by_message_id_not_appended_again(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    bob: MailUser,
    carol: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = queue(account, bob, carol)
    real_record = sent_copy._record
    monkeypatch.setattr(sent_copy, "_record", crash)

    assert outbox.send_message(message.pk, "worker-1").state == S.SENT
    assert row(message).sent_copy_state == C.APPENDING
    assert len(sent_folder(mail_servers, alice, message)) == 1  # appended, not recorded
    monkeypatch.setattr(sent_copy, "_record", real_record)
    appends: list[str] = []
    monkeypatch.setattr(sent_copy, "append", lambda _c, folder, *_a: appends.append(folder))

    lease_runs_out(message)
    assert send_due.apply().get()["copies"] == 1

    assert appends == []
    assert row(message).sent_copy_state == C.APPENDED
    assert len(sent_folder(mail_servers, alice, message)) == 1


def test_a_failed_append_is_retried_by_the_sweep_and_searched_for_first(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    bob: MailUser,
    carol: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A network error during the APPEND: the copy may or may not be there; pending again."""
    from mailbox.protocols.errors import ConnectFailed

    message = queue(account, bob, carol)
    real_append = sent_copy.append

    def cut(*args: object) -> None:
        raise ConnectFailed("imap", 993, "connection reset")

    monkeypatch.setattr(sent_copy, "append", cut)
    outbox.send_message(message.pk, "worker-1")
    after = row(message)
    assert (after.sent_copy_state, after.claimed_by) == (C.PENDING, "")
    assert "connection reset" in after.sent_copy_error
    monkeypatch.setattr(sent_copy, "append", real_append)

    assert send_due.apply().get()["copies"] == 1

    assert row(message).sent_copy_state == C.APPENDED
    assert len(sent_folder(mail_servers, alice, message)) == 1


@pytest.mark.parametrize("host", ["imap.gmail.com", "IMAP.googlemail.com."])
def test_gmail_keeps_its_own_sent_copy(host: str) -> None:
    account = make_account(
        User.objects.create_user("gmail-owner"),
        "someone@gmail.com",
        incoming=Server(host, 993, Security.TLS),
    )
    other = make_account(User.objects.create_user("other-owner"), "someone@example.test")

    assert sent_copy.provider_keeps_sent(account)
    assert not sent_copy.provider_keeps_sent(other)


def crash(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the worker died here")
