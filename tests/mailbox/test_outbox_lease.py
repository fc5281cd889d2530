"""A long DATA or APPEND on a slow link outlasts its lease (here 1 second, behind a fault proxy
slowed to a few MB a second): the lease is renewed while the bytes go, so no other worker can
take a live send over; and a writer that finds its message taken over stops before the end,
so the message (or its Sent copy) still exists exactly once."""

import time
from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage, OutgoingState, SentCopyState
from mailbox.protocols.mime_build import (
    OutgoingAttachment,
    OutgoingDraft,
    build_message,
    new_message_id,
)
from mailbox.protocols.types import Security, Server
from mailbox.services import outbox, outbox_send, sent_copy
from mailbox.services.outbox_lease import LeaseKeeper
from tests.accounts.factories import make_account
from tests.harness.faultproxy import FaultProxy
from tests.harness.faults import C2S, Direction, Fault
from tests.harness.mailservers import MailServers, MailUser

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

S = OutgoingState
C = SentCopyState
LEASE = 1  # seconds
RATE = 4_000_000  # bytes a second through the slowed proxy
BIG = OutgoingAttachment("big.bin", "application/octet-stream", bytes(range(256)) * 40_000)


@pytest.fixture(autouse=True)
def tiny_lease(settings):  # type: ignore[no-untyped-def]
    settings.MAIL_SEND_LEASE_SECONDS = LEASE
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 15


@pytest.fixture
def alice(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="alice")


@pytest.fixture
def bob(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="bob")


class Slow(Fault):
    """What the client sends crawls through at RATE bytes a second."""

    def feed(self, direction: Direction, data: bytes) -> tuple[bytes, bool]:
        if direction == C2S:
            time.sleep(len(data) / RATE)
        return data, False


def slowed(fault_proxy, port: int) -> FaultProxy:  # type: ignore[no-untyped-def]
    proxy: FaultProxy = fault_proxy("127.0.0.1", port, tls="implicit")
    proxy._set_mode(Slow, None)
    return proxy


def account_for(user: MailUser, imap_port: int, smtp_port: int) -> MailAccount:
    return make_account(
        User.objects.create_user(f"owner-{user.address}"),
        user.address,
        password=user.password,
        incoming=Server("127.0.0.1", imap_port, Security.TLS),
        smtp=Server("127.0.0.1", smtp_port, Security.TLS),
    )


def queue(account: MailAccount, to: MailUser) -> OutgoingMessage:
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", to.address),),
        subject="a big one",
        text="Here it is.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
        attachments=(BIG,),
    )
    built = build_message(draft, allow_private_hosts=True)
    return outbox.do_queue_message(account, built, send_at=timezone.now())


def row(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage.objects.get(pk=message.pk)


def watching(rival: Callable[[], object]) -> tuple[type[LeaseKeeper], list[object]]:
    """A LeaseKeeper that, once more than a lease has passed since it began, lets a rival
    worker try to take the message over after each renewal check; the rival's results."""
    seen: list[object] = []

    class Watched(LeaseKeeper):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self.began = time.monotonic()

        def __call__(self, sent: int = 0) -> None:
            super().__call__(sent)
            if time.monotonic() - self.began > LEASE * 1.2:
                seen.append(rival())

    return Watched, seen


def test_a_slow_data_keeps_its_lease_and_no_rival_takes_it_over(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, fault_proxy, monkeypatch
) -> None:
    e = mail_servers.endpoints
    proxy = slowed(fault_proxy, e.submissions_port)
    message = queue(account_for(alice, e.imaps_port, proxy.port), bob)
    keeper, rivals = watching(lambda: outbox.claim_due("rival"))
    monkeypatch.setattr(outbox_send, "LeaseKeeper", keeper)

    began = time.monotonic()
    outcome = outbox.send_message(message.pk, "worker-1")

    assert time.monotonic() - began > 2 * LEASE  # the test means something: DATA was slow
    assert outcome.state == row(message).state == S.SENT
    assert rivals and all(found == [] for found in rivals)
    mail_servers.wait_for_messages(bob.address, 1)
    mail_servers.wait_for_empty_queue()
    assert len(mail_servers.messages(bob.address)) == 1


def test_a_data_whose_message_was_taken_over_stops_before_the_end(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, monkeypatch
) -> None:
    """The renewal finds the row no longer ours: the end of data never goes."""
    e = mail_servers.endpoints
    message = queue(account_for(alice, e.imaps_port, e.submissions_port), bob)

    class TakenOver(LeaseKeeper):
        def __call__(self, sent: int = 0) -> None:
            if sent:  # from the write loop: the body is on its way
                OutgoingMessage.objects.filter(pk=message.pk).update(claimed_by="rival")
                self.renew_now()

    monkeypatch.setattr(outbox_send, "LeaseKeeper", TakenOver)
    outcome = outbox.send_message(message.pk, "worker-1")

    assert outcome.state == "" and "before the end of data" in outcome.detail
    assert (row(message).state, row(message).attempts) == (S.SENDING, 1)
    mail_servers.wait_for_empty_queue()
    assert mail_servers.messages(bob.address) == []


def sent_copies(servers: MailServers, user: MailUser, message: OutgoingMessage) -> int:
    found = servers.messages(user.address, folder="Sent")
    return sum(1 for m in found if message.message_id.encode() in m.raw)


def sent_without_copy(account: MailAccount, to: MailUser) -> OutgoingMessage:
    message = queue(account, to)
    OutgoingMessage.objects.filter(pk=message.pk).update(state=S.SENT, sent_at=timezone.now())
    return message


def test_a_slow_append_keeps_its_lease_and_the_copy_is_stored_once(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, fault_proxy, monkeypatch
) -> None:
    e = mail_servers.endpoints
    proxy = slowed(fault_proxy, e.imaps_port)
    message = sent_without_copy(account_for(alice, proxy.port, e.submissions_port), bob)
    keeper, rivals = watching(lambda: sent_copy.claim_copy(message.pk, "rival"))
    monkeypatch.setattr(sent_copy, "LeaseKeeper", keeper)

    began = time.monotonic()
    state = sent_copy.store_sent_copy(message.pk, "worker-1")

    assert time.monotonic() - began > 2 * LEASE
    assert state == row(message).sent_copy_state == C.APPENDED
    assert rivals and not any(rivals)
    assert sent_copies(mail_servers, alice, message) == 1


def test_an_append_whose_copy_was_taken_over_stores_nothing(
    mail_servers: MailServers, alice: MailUser, bob: MailUser, monkeypatch
) -> None:
    e = mail_servers.endpoints
    message = sent_without_copy(account_for(alice, e.imaps_port, e.submissions_port), bob)
    calls: list[int] = []

    class TakenOver(LeaseKeeper):
        def __call__(self, sent: int = 0) -> None:  # only the APPEND's writes call it
            calls.append(sent)
            OutgoingMessage.objects.filter(pk=message.pk).update(claimed_by="rival")
            self.renew_now()

    monkeypatch.setattr(sent_copy, "LeaseKeeper", TakenOver)
    state = sent_copy.store_sent_copy(message.pk, "worker-1")

    assert state == "" and len(calls) == 1
    assert row(message).sent_copy_state == C.APPENDING  # the rival's now
    assert sent_copies(mail_servers, alice, message) == 0
