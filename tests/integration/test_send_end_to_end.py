"""Alice writes to Bob with an attachment through the compose page; the real Celery worker
sends it through the fixture Postfix; Bob's Dovecot inbox has it once, headers and bytes
right, Alice's Sent folder has the copy once; Bob syncs and replies from compose, Alice syncs,
and in both local stores the two messages are one conversation."""

import datetime as dt
import email
import email.policy
import random
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import Message, MessageLocation, OutgoingMessage
from mailbox.services.sync import sync_account
from tests.harness.celery_worker import CeleryWorker
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.sending import account_for, copies, settled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]

URL = reverse("mail:compose")
ATTACHMENT = random.Random(6).randbytes(300_000)  # every byte value, no text structure
FILE_NAME = "Rapport d'été 2026.bin"  # non-ASCII: an RFC 2231 name


def signed_in(account: MailAccount) -> Client:
    client = Client()
    client.force_login(account.user)
    return client


def opened(client: Client, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The compose form's values as the page opens with them (a reply: its prefill)."""
    response = client.get(URL, query or {})
    assert response.status_code == 200
    form = response.context["form"]
    values = {name: form[name].value() for name in form.fields if name != "attachments"}
    return {name: value for name, value in values.items() if value is not None}


def send(client: Client, values: dict[str, Any], **changes: Any) -> OutgoingMessage:
    response = client.post(URL, {**values, **changes})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return OutgoingMessage.objects.get(message_id=values["message_id"])


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def stored(account: MailAccount, message_id: str) -> Message:
    return Message.objects.get(account=account, message_id=message_id)


def test_alice_sends_bob_replies_and_both_mailboxes_keep_one_conversation(
    celery_worker: CeleryWorker, mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    alice, bob, carol = (mail_user(local=f"e2e-{name}") for name in ("alice", "bob", "carol"))
    alice_account = account_for(alice, mail_servers, "e2e-alice")
    bob_account = account_for(bob, mail_servers, "e2e-bob")
    alice_client = signed_in(alice_account)
    values = opened(alice_client)
    before = timezone.now()

    original = send(
        alice_client,
        values,
        to=f"Bob <{bob.address}>",
        bcc=carol.address,
        subject="Quarterly figures",
        text="Hello Bob,\n\nthe figures are attached.\n",
        attachments=SimpleUploadedFile(FILE_NAME, ATTACHMENT, "application/octet-stream"),
    )

    row = settled(original.pk, log=celery_worker.log())
    assert (row.state, row.sent_copy_state, row.attempts) == ("sent", "appended", 1)
    message_id = values["message_id"]
    [received] = copies(mail_servers, bob, message_id)
    message = parsed(received.raw)
    assert [a.addr_spec for a in message["From"].addresses] == [alice.address]
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("Bob", bob.address)
    ]
    assert message["Subject"] == "Quarterly figures"
    assert message["Message-ID"] == message_id
    assert before - dt.timedelta(seconds=2) <= parsedate_to_datetime(message["Date"])
    assert parsedate_to_datetime(message["Date"]) <= timezone.now()
    assert message["Bcc"] is None and carol.address.encode() not in received.raw
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == FILE_NAME
    assert attachment.get_content() == ATTACHMENT
    assert len(copies(mail_servers, carol, message_id)) == 1  # Bcc: delivered, not shown
    [sent_copy] = copies(mail_servers, alice, message_id, folder="Sent")
    assert [a.addr_spec for a in parsed(sent_copy.raw)["Bcc"].addresses] == [carol.address]
    assert "\\Seen" in sent_copy.flags

    sync_account(bob_account.pk)
    in_bobs_inbox = MessageLocation.objects.get(
        folder__account=bob_account, folder__role="inbox", message__message_id=message_id
    )
    bob_client = signed_in(bob_account)
    reply_values = opened(bob_client, {"reply": in_bobs_inbox.pk})
    assert alice.address in reply_values["to"] and bob.address not in reply_values["to"]
    reply = send(bob_client, reply_values, text="Thanks, Alice.\n" + reply_values["text"])

    assert settled(reply.pk, log=celery_worker.log()).state == "sent"
    reply_id = reply_values["message_id"]
    [answer] = copies(mail_servers, alice, reply_id)
    assert parsed(answer.raw)["In-Reply-To"] == message_id
    assert message_id in parsed(answer.raw)["References"].split()
    assert parsed(answer.raw)["Subject"] == "Re: Quarterly figures"
    sync_account(alice_account.pk)
    sync_account(bob_account.pk)  # the reply's copy in Bob's Sent folder
    for account in (alice_account, bob_account):
        first, second = stored(account, message_id), stored(account, reply_id)
        assert first.thread_id is not None and first.thread_id == second.thread_id, account
        assert second.in_reply_to == message_id
        assert message_id in second.references
    assert len(copies(mail_servers, bob, reply_id, folder="Sent")) == 1
