"""A POP3 account's Sent folder is local: after the real Postfix takes a message, its copy (with
the Bcc) is stored in that folder exactly once, read, threaded and found by search."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import FolderRole, MessageLocation, OutgoingMessage, OutgoingState
from mailbox.models import SentCopyState as C
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.protocols.types import Protocol, Security, Server
from mailbox.selectors.folders import sidebar
from mailbox.selectors.listing import page, search_listing
from mailbox.selectors.query import parse
from mailbox.services import outbox, sent_copy, sent_copy_local
from mailbox.tasks.send import send_due
from tests.accounts.factories import make_account
from tests.harness.mailservers import MailServers, MailUser

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture(autouse=True)
def short_timeouts(settings):  # type: ignore[no-untyped-def]
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 3


@pytest.fixture
def account(mail_servers: MailServers, mail_user: Callable[..., MailUser]) -> MailAccount:
    alice = mail_user(local="alice")
    e = mail_servers.endpoints
    return make_account(
        User.objects.create_user("alice-owner"),
        alice.address,
        password=alice.password,
        incoming=Server(e.host, e.pop3s_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
        protocol=Protocol.POP3,
    )


@pytest.fixture
def bob(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="bob")


def queue(account: MailAccount, to: MailUser) -> OutgoingMessage:
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", to.address),),
        bcc=(("Carol", "carol@example.test"),),
        subject="Quarterly aubergine report",
        text="The aubergines did well.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
    )
    return outbox.do_queue_message(account, build_message(draft, allow_private_hosts=True))


def in_sent(account: MailAccount) -> list[MessageLocation]:
    return list(
        MessageLocation.objects.filter(
            folder__account=account, folder__role=FolderRole.SENT
        ).select_related("message", "folder")
    )


def test_a_sent_message_is_in_the_local_sent_folder_once_read_and_searchable(
    mail_servers: MailServers, account: MailAccount, bob: MailUser
) -> None:
    message = queue(account, bob)

    outcome = outbox.send_message(message.pk, "worker-1")
    send_due.apply()  # the sweep finds nothing left to store
    again = sent_copy.store_sent_copy(message.pk, "worker-2")

    assert outcome.state == OutgoingState.SENT and again == ""
    row = OutgoingMessage.objects.get(pk=message.pk)
    assert (row.sent_copy_state, row.sent_copy_attempts, row.claimed_by) == (C.APPENDED, 1, "")
    [location] = in_sent(account)
    assert location.folder.is_local and location.is_seen
    assert location.message.message_id == message.message_id
    assert location.message.subject == "Quarterly aubergine report"
    assert location.folder.message_count == 1
    found = page(search_listing(sidebar(account.user), parse("aubergines"), dt.UTC)).rows
    assert [r.id for r in found] == [location.pk]


def test_a_worker_dead_while_storing_leaves_it_to_the_sweep_which_stores_it_once(
    mail_servers: MailServers, account: MailAccount, bob: MailUser, monkeypatch
) -> None:
    message = queue(account, bob)
    real_store_body = sent_copy_local.store_body

    def die(*args: object) -> None:
        raise SystemExit("the worker was killed while storing the copy")

    monkeypatch.setattr(sent_copy_local, "store_body", die)
    with pytest.raises(SystemExit):
        outbox.send_message(message.pk, "dead-worker")
    monkeypatch.setattr(sent_copy_local, "store_body", real_store_body)

    assert in_sent(account) == []  # nothing half-stored
    row = OutgoingMessage.objects.get(pk=message.pk)
    assert (row.state, row.sent_copy_state) == (OutgoingState.SENT, C.APPENDING)
    assert send_due.apply().get()["copies"] == 0  # its lease still holds

    OutgoingMessage.objects.filter(pk=message.pk).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert send_due.apply().get()["copies"] == 1
    send_due.apply()
    assert len(in_sent(account)) == 1
    assert OutgoingMessage.objects.get(pk=message.pk).sent_copy_state == C.APPENDED
