"""The compose page (issue 6, point 1): labelled fields and the signature; Send records one
outbox message and enqueues its task after the commit; what is wrong is said beside its field
and nothing is queued; replies and forwards start from the person's own message only."""

import datetime as dt
import re
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.models import Identity, MailAccount
from mailbox.forms_compose import ComposeForm
from mailbox.models import OutgoingMessage, OutgoingState
from mailbox.services.outbox import claim
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


# Undo and Send later ----------------------------------------------------------------------


@pytest.fixture
def undo_window(settings: Settings) -> None:
    settings.MAIL_UNDO_SEND_SECONDS = 10  # the test settings have none


def sent(client: Client) -> OutgoingMessage:
    values = opened(client)
    response = send(
        client, values, to="bob@example.test", bcc="dave@example.test", subject="Oops", text="Hi\n"
    )
    assert response.status_code == 302
    return OutgoingMessage.objects.get()


def undo_url(outgoing: OutgoingMessage) -> str:
    return reverse("mail:undo_send", args=[outgoing.pk])


def test_undo_within_the_window_takes_the_message_back_and_reopens_it(
    alice: Any, undo_window: None
) -> None:
    client, _, identity = alice
    outgoing = sent(client)
    inbox = client.get(reverse("mail:inbox")).content.decode()
    assert f'action="{undo_url(outgoing)}"' in inbox and ">Undo</button>" in inbox

    response = client.post(undo_url(outgoing), follow=True)

    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingState.CANCELLED
    later = outgoing.send_at + dt.timedelta(minutes=1)
    assert not claim(outgoing.pk, "worker", now=later)  # never sent after all
    assert response.redirect_chain[-1][0].startswith(URL)
    assert "Sending was undone." in response.content.decode()
    form = response.context["form"]
    assert form["to"].value() == "bob@example.test" and form["bcc"].value() == "dave@example.test"
    assert form["subject"].value() == "Oops" and form["text"].value() == "Hi\n"
    assert form["identity"].value() == identity.pk
    assert form["message_id"].value() == outgoing.message_id
    # Sending it again revives the same row.
    values = {name: form[name].value() for name in form.fields if name != "attachments"}
    assert send(client, values).status_code == 302
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingState.QUEUED and OutgoingMessage.objects.count() == 1


def test_undo_after_the_window_is_too_late(alice: Any, undo_window: None) -> None:
    client, _, _ = alice
    outgoing = sent(client)
    past = timezone.now() - dt.timedelta(seconds=1)
    OutgoingMessage.objects.filter(pk=outgoing.pk).update(send_at=past, next_attempt_at=past)

    response = client.post(undo_url(outgoing), follow=True)

    assert response.redirect_chain[-1][0] == reverse("mail:inbox")
    assert "Too late to undo: the message is on its way." in response.content.decode()
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingState.QUEUED


def test_no_undo_button_without_an_undo_window(alice: Any, settings: Settings) -> None:
    settings.MAIL_UNDO_SEND_SECONDS = 0
    client, _, _ = alice
    sent(client)
    inbox = client.get(reverse("mail:inbox")).content.decode()
    assert "Sending…" in inbox and ">Undo</button>" not in inbox


def test_another_persons_outgoing_message_answers_404(alice: Any, undo_window: None) -> None:
    client, _, _ = alice
    outgoing = sent(client)
    bob, _, _ = make_person("bob")

    assert signed_in(bob).post(undo_url(outgoing)).status_code == 404
    assert signed_in(bob).get(URL, {"undone": outgoing.pk}).status_code == 404
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingState.QUEUED
    # Nor does compose reopen a message that was not taken back.
    assert client.get(URL, {"undone": outgoing.pk}).status_code == 404


def test_send_later_queues_it_at_that_time_in_the_persons_zone(alice: Any) -> None:
    client, _, _ = alice
    user = client.get(URL).context["user"]
    user.time_zone = "Europe/Berlin"
    user.save()
    next_year = timezone.now().year + 1

    response = send(
        client, opened(client), to="bob@example.test", send_at=f"{next_year}-07-01T09:30"
    )

    assert response.status_code == 302
    outgoing = OutgoingMessage.objects.get()
    berlin = dt.datetime(next_year, 7, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert outgoing.send_at == berlin == outgoing.next_attempt_at
    assert outgoing.send_at.astimezone(dt.UTC).hour == 7  # summer time: UTC+2
    inbox = client.get(reverse("mail:inbox")).content.decode()
    assert "Scheduled for" in inbox and str(next_year) in inbox and ">Undo</button>" not in inbox


def test_send_later_in_the_past_is_refused(alice: Any) -> None:
    client, _, _ = alice

    response = send(client, opened(client), to="bob@example.test", send_at="2020-01-01T10:00")

    assert response.status_code == 200
    assert response.context["form"].errors["send_at"] == [
        "This time has passed: choose one in the future."
    ]
    assert not OutgoingMessage.objects.exists()
    assert re.search(r'<label for="id_send_at">Send at</label>', response.content.decode())
