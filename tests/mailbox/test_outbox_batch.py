"""Sending a batch over one SMTP session, against the real Postfix behind the fault proxy (which
counts the connections): N messages, one connection; a session that breaks mid-batch is
opened again and the rest still go, each exactly once."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage, OutgoingState, SentCopyState
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.protocols.types import Security, Server
from mailbox.services import outbox
from mailbox.tasks.send import send_due
from tests.accounts.factories import make_account
from tests.harness.faultproxy import FaultProxy
from tests.harness.faults import C2S, DATA_END, Direction, Fault
from tests.harness.mailservers import MailServers, MailUser

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

S = OutgoingState
BATCH = 5


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
def proxy(mail_servers: MailServers, fault_proxy) -> FaultProxy:  # type: ignore[no-untyped-def]
    e = mail_servers.endpoints
    return fault_proxy(e.host, e.submissions_port, tls="implicit")


def account_for(user: MailUser, proxy: FaultProxy, imap_port: int = 9) -> MailAccount:
    """SMTP through the proxy; by default no IMAP server, so Sent copies stay pending."""
    return make_account(
        User.objects.create_user(f"owner-{user.address}"),
        user.address,
        password=user.password,
        incoming=Server("127.0.0.1", imap_port, Security.TLS),
        smtp=Server("127.0.0.1", proxy.port, Security.TLS),
    )


def queue_due(account: MailAccount, to: MailUser, count: int) -> list[OutgoingMessage]:
    queued = []
    for n in range(count):
        draft = OutgoingDraft(
            from_=("Alice", account.email),
            to=(("Bob", to.address),),
            subject=f"batch {n}",
            text=f"Message number {n}.\n" + "Some text to send.\n" * 40,
            message_id=new_message_id("example.test"),
            date=timezone.now(),
        )
        built = build_message(draft, allow_private_hosts=True)
        queued.append(outbox.do_queue_message(account, built, send_at=timezone.now()))
    return queued


def delivered_ids(servers: MailServers, user: MailUser, count: int) -> list[str]:
    """The Message-IDs in the user's inbox once Postfix's queue is empty, one per message."""
    servers.wait_for_messages(user.address, count)
    servers.wait_for_empty_queue()
    found = []
    for stored in servers.messages(user.address):
        for line in stored.raw.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                found.append(line.split(b":", 1)[1].strip().decode())
    return sorted(found)


def states(messages: list[OutgoingMessage]) -> list[str]:
    return [OutgoingMessage.objects.get(pk=m.pk).state for m in messages]


def test_the_due_messages_of_an_account_go_over_one_connection(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, proxy: FaultProxy
) -> None:
    messages = queue_due(account_for(alice, proxy), bob, BATCH)

    result = send_due.apply().get()

    assert (result["tried"], result["sent"]) == (BATCH, BATCH)
    assert proxy.connections == 1
    assert states(messages) == [S.SENT] * BATCH
    assert all(OutgoingMessage.objects.get(pk=m.pk).attempts == 1 for m in messages)
    assert delivered_ids(mail_servers, bob, BATCH) == sorted(m.message_id for m in messages)


class CutInSecondMessage(Fault):
    """Lets the first message through, then cuts `after` bytes into what follows its end of
    data: inside the second message's MAIL FROM, so nothing of it can have been taken (a cut
    in its body could race the client's end of data, which is the `unknown` case)."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.tail = b""
        self.first_done = False

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        if direction != C2S:
            return data, False
        if not self.first_done:
            window = self.tail + data
            found = window.find(DATA_END)
            if found == -1:
                self.tail = window[-(len(DATA_END) - 1) :]
                return data, False
            self.first_done = True
            kept = found + len(DATA_END) - len(self.tail)
            head, rest = data[:kept], data[kept:]
            out, cut = self.feed(direction, rest)
            return head + out, cut
        if len(data) < self.after:
            self.after -= len(data)
            return data, False
        return data[: self.after], True


def test_a_session_broken_mid_batch_is_reopened_and_every_message_goes_once(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, proxy: FaultProxy
) -> None:
    proxy._set_mode(lambda: CutInSecondMessage(after=20), times=1)
    messages = queue_due(account_for(alice, proxy), bob, BATCH)

    outcomes = outbox.send_batch(outbox.claim_due("worker-1"), "worker-1")

    assert [o.state for o in outcomes] == [S.SENT, S.QUEUED] + [S.SENT] * (BATCH - 2)
    assert proxy.faults_fired == 1 and proxy.connections == 2
    cut = OutgoingMessage.objects.get(pk=messages[1].pk)
    assert "connection was lost" in cut.last_error

    later = cut.next_attempt_at + dt.timedelta(seconds=1)
    assert outbox.claim_due("worker-2", later) == [cut.pk]
    assert outbox.send_batch([cut.pk], "worker-2")[0].state == S.SENT

    assert states(messages) == [S.SENT] * BATCH
    assert delivered_ids(mail_servers, bob, BATCH) == sorted(m.message_id for m in messages)


def test_an_account_that_cannot_connect_costs_one_attempt_and_leaves_its_messages_queued(
    alice: MailUser, bob: MailUser, proxy: FaultProxy
) -> None:
    """Nothing listens: the first message's failure answers the rest, without reconnecting."""
    account = account_for(alice, proxy)
    proxy.close()
    messages = queue_due(account, bob, 3)

    outcomes = outbox.send_batch(outbox.claim_due("worker-1"), "worker-1")

    assert [o.state for o in outcomes] == [S.QUEUED] * 3
    rows = [OutgoingMessage.objects.get(pk=m.pk) for m in messages]
    assert all(r.attempts == 1 and r.claimed_by == "" and r.last_error for r in rows)
    assert all(r.sent_copy_state == SentCopyState.PENDING for r in rows)


def test_the_sent_copies_of_a_batch_go_over_one_imap_connection_each_once(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, proxy: FaultProxy, fault_proxy
) -> None:
    e = mail_servers.endpoints
    imap: FaultProxy = fault_proxy(e.host, e.imaps_port, tls="implicit")
    messages = queue_due(account_for(alice, proxy, imap.port), bob, 3)

    outcomes = outbox.send_batch(outbox.claim_due("worker-1"), "worker-1")

    assert [o.state for o in outcomes] == [S.SENT] * 3
    assert (proxy.connections, imap.connections) == (1, 1)
    rows = [OutgoingMessage.objects.get(pk=m.pk) for m in messages]
    assert all(r.sent_copy_state == SentCopyState.APPENDED for r in rows)
    in_sent = [m.raw for m in mail_servers.messages(alice.address, folder="Sent")]
    for message in messages:
        assert sum(message.message_id.encode() in raw for raw in in_sent) == 1
