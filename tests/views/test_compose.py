"""The compose page (issue 6, point 1): labelled fields and the signature; Send records one
outbox message and enqueues its task after the commit; what is wrong is said beside its field
and nothing is queued; replies and forwards start from the person's own message only."""

import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import Identity, MailAccount
from mailbox.forms_compose import ComposeForm
from mailbox.models import OutgoingMessage
from tests.views.message_support import deliver, mail, make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = reverse("mail:compose")


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


@pytest.fixture
def alice() -> tuple[Client, MailAccount, Identity]:
    user, account, _ = make_person("alice")
    identity = account.identities.get()
    identity.name, identity.signature = "Alice", "Alice Liddell\nWonderland"
    identity.save()
    return signed_in(user), account, identity


def opened(client: Client, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The compose form's values as the page opens with them."""
    response = client.get(URL, query or {})
    assert response.status_code == 200
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields if name != "attachments"}


def send(client: Client, values: dict[str, Any], **changes: Any) -> Any:
    body = {k: v for k, v in {**values, **changes}.items() if v is not None}
    with mock.patch("mailbox.services.compose.send_message_task") as task:
        response = client.post(URL, body)
    response.task = task
    return response


def test_the_form_has_labelled_fields_and_the_signature(alice: Any) -> None:
    client, _, identity = alice
    page = client.get(URL).content.decode()

    for label in ("From", "To", "Cc", "Bcc", "Subject", "Message", "Attachments"):
        assert re.search(rf"<label for=\"id_\w+\">{label}</label>", page), label
    assert re.search(r'<input type="file" name="attachments"[^>]* multiple', page)
    assert ">Send</button>" in page
    assert "\n-- \nAlice Liddell\nWonderland\n" in opened(client)["text"]
    assert f'value="{identity.pk}" selected' in page


def test_send_queues_one_message_and_enqueues_its_task_on_commit(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, account, _ = alice
    values = opened(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            client,
            values,
            to="Bob <bob@example.test>, carol@example.test",
            bcc="dave@example.test",
            subject="Lunch",
            text="Noon?\n",
        )

    assert response.status_code == 302 and response["Location"] == reverse("mail:inbox")
    outgoing = OutgoingMessage.objects.get()
    assert outgoing.account == account and outgoing.message_id == values["message_id"]
    assert outgoing.envelope_from == "alice@example.test"
    assert outgoing.envelope_to == ["bob@example.test", "carol@example.test", "dave@example.test"]
    assert b"dave@" not in bytes(outgoing.raw)
    assert b"Bcc: dave@example.test" in bytes(outgoing.sent_copy)
    assert b"Subject: Lunch" in bytes(outgoing.raw)
    response.task.delay.assert_called_once_with(outgoing.pk)
    follow = client.get(reverse("mail:inbox"))
    assert "Sending…" in follow.content.decode()


def test_the_same_form_sent_twice_is_one_message(alice: Any) -> None:
    client, _, _ = alice
    values = {**opened(client), "to": "bob@example.test", "subject": "Once"}

    assert send(client, values).status_code == 302
    assert send(client, values).status_code == 302
    assert OutgoingMessage.objects.count() == 1


def test_another_persons_identity_is_refused() -> None:
    alice_user, _, _ = make_person("alice")
    _, bob_account, _ = make_person("bob")
    client = signed_in(alice_user)
    values = {**opened(client), "to": "x@example.test"}

    response = send(client, values, identity=bob_account.identities.get().pk)

    assert response.status_code == 404
    assert not OutgoingMessage.objects.exists()
    # The form itself offers and takes only the person's own identities.
    form = ComposeForm(alice_user, {**values, "identity": bob_account.identities.get().pk})
    assert list(form.fields["identity"].queryset) == list(
        Identity.objects.filter(account__user=alice_user)
    )
    assert not form.is_valid() and "identity" in form.errors


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"subject": "Hi\r\nBcc: evil@example.test"}, "subject", "line break"),
        ({"to": "Bob\n <bob@example.test>"}, "to", "line break"),
        ({"to": "bob@@example"}, "to", "not a valid email address"),
        ({"cc": "carol"}, "cc", "not a valid email address"),
        ({"to": ""}, "to", "no recipients"),
    ],
)
def test_a_wrong_draft_is_shown_beside_its_field_and_nothing_is_queued(
    alice: Any, changes: dict[str, str], field: str, words: str
) -> None:
    client, _, _ = alice
    values = {**opened(client), "to": "bob@example.test", "subject": "Hello"}

    response = send(client, values, **changes)

    assert response.status_code == 200
    assert any(words in error for error in response.context["form"].errors[field])
    assert not OutgoingMessage.objects.exists()
    response.task.delay.assert_not_called()


def test_a_forged_thread_header_is_refused(alice: Any) -> None:
    client, _, _ = alice
    values = {**opened(client), "to": "bob@example.test"}

    response = send(client, values, in_reply_to="<a@b>\r\nBcc: x@example.test")

    assert response.context["form"].errors["in_reply_to"]
    assert not OutgoingMessage.objects.exists()


def test_attachments_over_the_limit_are_refused(alice: Any, settings: Settings) -> None:
    client, _, _ = alice
    settings.MAIL_MAX_UPLOAD_MB = 1
    values = {**opened(client), "to": "bob@example.test"}
    files = [SimpleUploadedFile(f"{n}.bin", b"x" * 600_000) for n in range(2)]

    response = send(client, values, attachments=files)

    assert "a message can carry 1.0\xa0MB of them at most" in str(
        response.context["form"].errors["attachments"]
    )
    assert not OutgoingMessage.objects.exists()
    small = SimpleUploadedFile("plan.txt", b"the plan", content_type="text/plain")
    assert send(client, values, attachments=[small]).status_code == 302
    assert b'filename="plan.txt"' in bytes(OutgoingMessage.objects.get().raw)


# Replies and forwards ---------------------------------------------------------------------------


@pytest.fixture
def received(alice: Any) -> Any:
    client, account, _ = alice
    inbox = account.folders.get(name="INBOX")
    raw = mail(
        subject="Re: Plans",
        sender="Ann Sender <ann@sender.test>",
        to="Alice <alice@example.test>, Bob <bob@example.test>",
        cc="carol@example.test",
        text="Shall we meet?\nAt noon.\n",
        message_id="<plans.2@sender.test>",
        headers=(("References", "<plans.1@sender.test>"),),
    )
    return client, deliver(inbox, raw)


def test_reply_answers_the_sender_and_quotes_the_message(received: Any) -> None:
    client, location = received

    values = opened(client, {"reply": location.pk})

    assert values["to"] == "Ann Sender <ann@sender.test>" and not values["cc"]
    assert values["subject"] == "Re: Plans"
    assert values["in_reply_to"] == "<plans.2@sender.test>"
    assert values["references"] == "<plans.1@sender.test> <plans.2@sender.test>"
    assert re.search(
        r"On .+, Ann Sender <ann@sender.test> wrote:\n> Shall we meet\?\n> At noon\.",
        values["text"],
    )
    assert "-- \nAlice Liddell" in values["text"]


def test_reply_all_leaves_out_the_persons_own_addresses(received: Any) -> None:
    client, location = received

    values = opened(client, {"reply_all": location.pk})

    assert values["to"] == "Ann Sender <ann@sender.test>, Bob <bob@example.test>"
    assert values["cc"] == "carol@example.test"
    assert send(client, values).status_code == 302
    raw = bytes(OutgoingMessage.objects.get().raw)
    assert b"In-Reply-To: <plans.2@sender.test>" in raw
    assert b"References: <plans.1@sender.test> <plans.2@sender.test>" in raw


def test_forward_keeps_the_text_without_recipients(received: Any) -> None:
    client, location = received

    values = opened(client, {"forward": location.pk})

    assert values["subject"] == "Fwd: Plans" and not values["to"]
    assert "Forwarded message" in values["text"] and "Shall we meet?" in values["text"]
    assert not values["in_reply_to"]


@pytest.mark.parametrize("kind", ["reply", "reply_all", "forward"])
def test_another_persons_message_answers_404(received: Any, kind: str) -> None:
    _, location = received
    bob, _, _ = make_person("bob")

    assert signed_in(bob).get(URL, {kind: location.pk}).status_code == 404
    assert signed_in(bob).get(URL, {kind: "x1"}).status_code == 404
