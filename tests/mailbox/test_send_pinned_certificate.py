"""Sending honours the account's trusted certificate: a self-hoster's Postfix with a
certificate no CA vouches for takes the mail once the person trusted exactly that certificate,
and refuses it (failed, in plain words, nothing sent) while they have not."""

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.protocols.types import Security, Server
from mailbox.services import outbox
from tests.accounts.factories import make_account
from tests.harness.certs import TestCA
from tests.harness.mailservers import MailServers

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def short_timeouts(settings):  # type: ignore[no-untyped-def]
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 3


def account_on(servers: MailServers, local: str, pin: str) -> MailAccount:
    user = servers.add_user(f"{local}@{servers.endpoints.domains[0]}", f"{local}-password-1")
    e = servers.endpoints
    account = make_account(
        User.objects.create_user(f"owner-{local}"),
        user.address,
        password=user.password,
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )
    MailAccount.objects.filter(pk=account.pk).update(smtp_trusted_fingerprint=pin)
    return MailAccount.objects.get(pk=account.pk)


def queue(account: MailAccount, to: str) -> OutgoingMessage:
    draft = OutgoingDraft(
        from_=("", account.email),
        to=(("", to),),
        subject="pinned",
        text="Through a certificate the person trusted.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
    )
    return outbox.do_queue_message(account, build_message(draft, allow_private_hosts=True))


def test_mail_goes_through_the_trusted_certificate(
    foreign_servers: MailServers, foreign_ca: TestCA
) -> None:
    pin = foreign_ca.sha256_fingerprint(foreign_servers.dovecot.settings.cert.cert)
    bob = foreign_servers.add_user(f"bob@{foreign_servers.endpoints.domains[0]}", "bob-pw-1")
    message = queue(account_on(foreign_servers, "pinned-alice", pin), bob.address)

    outcome = outbox.send_message(message.pk, "worker-1")

    assert outcome.state == OutgoingState.SENT
    foreign_servers.wait_for_messages(bob.address, 1)
    assert (
        b"Through a certificate the person trusted." in foreign_servers.messages(bob.address)[0].raw
    )


def test_without_the_trust_nothing_is_sent_and_the_person_is_told(
    foreign_servers: MailServers,
) -> None:
    bob = foreign_servers.add_user(f"carol@{foreign_servers.endpoints.domains[0]}", "carol-pw-1")
    message = queue(account_on(foreign_servers, "unpinned-alice", ""), bob.address)

    outcome = outbox.send_message(message.pk, "worker-1")

    row = OutgoingMessage.objects.get(pk=message.pk)
    assert (outcome.state, row.state) == (OutgoingState.FAILED, OutgoingState.FAILED)
    assert "certificate" in row.last_error.lower()
    foreign_servers.wait_for_empty_queue()
    assert foreign_servers.messages(bob.address) == []
