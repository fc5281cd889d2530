"""The Outbox page (issue 6, points 4 and 5 as the person sees them): each state in plain words
with the server's own; a waiting or failed message taken back to compose; "It arrived" and
"Send again" on an unknown one; another person's outgoing id answers 404 and changes nothing.
And Send through htmx still lands on a whole inbox page, with its Undo."""

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.models import MailAccount
from mailbox.models import OutgoingMessage, OutgoingState, SentCopyState
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.services.outbox import claim, do_queue_message
from tests.views.message_support import make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

S = OutgoingState
URL = reverse("mail:outbox")
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


@pytest.fixture
def alice() -> tuple[Client, MailAccount]:
    user, account, _ = make_person("alice")
    return signed_in(user), account


def queued(account: MailAccount, subject: str, **state: Any) -> OutgoingMessage:
    """A message as compose queues it (for in an hour), then put in `state`."""
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", "bob@example.test"),),
        bcc=(("", "dave@example.test"),),
        subject=subject,
        text=f"About {subject}.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
    )
    built = build_message(draft, allow_private_hosts=True)
    message = do_queue_message(account, built, send_at=timezone.now() + HOUR)
    if state:
        OutgoingMessage.objects.filter(pk=message.pk).update(**state)
        message.refresh_from_db()
    return message


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def action(name: str, message: OutgoingMessage) -> str:
    return reverse(f"mail:outbox_{name}", args=[message.pk])


def test_the_page_shows_each_state_in_plain_words(alice: Any) -> None:
    client, account = alice
    now = timezone.now()
    queued(account, "Scheduled plans")
    queued(account, "Retried plans", attempts=1, last_error="421 4.3.2 Try again later")
    queued(account, "Plans on their way", state=S.SENDING, claimed_by="w", next_attempt_at=now)
    queued(account, "Refused plans", state=S.FAILED, last_error="550 5.1.1 <x@y>: unknown user")
    queued(account, "Undecided plans", state=S.UNKNOWN, last_error="the connection was lost")
    queued(account, "Delivered plans", state=S.SENT, sent_at=now)
    queued(account, "Old plans", state=S.SENT, sent_at=now - dt.timedelta(days=30))
    queued(account, "Taken back plans", state=S.CANCELLED)

    page = client.get(URL).content.decode()
    words = text_of(page)

    assert "Scheduled plans To bob@example.test, dave@example.test · from alice@" in words
    assert "Sends at" in words and "Withdraw and edit" in words
    assert "The server could not take it yet: 421 4.3.2 Try again later" in words
    assert "Next try:" in words
    assert "Plans on their way" in words and "Sending now." in words
    assert "Not sent" in words and "550 5.1.1 <x@y>: unknown user" in words
    assert "Edit and send again" in words
    assert "Did these arrive?" in words and "may have been delivered, or not" in words
    assert ">It arrived</button>" in page and ">Send again</button>" in page
    assert "Sent recently" in words and "Delivered plans" in words
    assert "Old plans" not in words and "Taken back plans" not in words
    # The sidebar's link counts the five still on their way or needing the person.
    assert re.search(r'id="sb-outbox"[^>]*aria-current="page"', page)
    assert "Outbox , 5 waiting or needing you" in words


def test_an_empty_outbox_says_so_and_the_sidebar_shows_no_count(alice: Any) -> None:
    client, _ = alice
    page = client.get(URL).content.decode()
    assert "Nothing is waiting to be sent" in page
    assert "waiting or needing you" not in page


def test_withdrawing_a_scheduled_message_reopens_it_in_compose(alice: Any) -> None:
    client, account = alice
    message = queued(account, "Second thoughts")

    response = client.post(action("withdraw", message), follow=True)

    message.refresh_from_db()
    assert message.state == S.CANCELLED
    assert not claim(message.pk, "worker", now=message.send_at + HOUR)  # it never goes
    assert response.redirect_chain[-1][0] == f"{reverse('mail:compose')}?undone={message.pk}"
    form = response.context["form"]
    assert form["subject"].value() == "Second thoughts"
    assert form["text"].value() == "About Second thoughts.\n"
    assert form["to"].value() == "Bob <bob@example.test>"
    assert form["bcc"].value() == "dave@example.test"
    assert form["message_id"].value() == message.message_id


def test_a_failed_message_is_edited_and_sent_again_as_the_same_message(alice: Any) -> None:
    client, account = alice
    message = queued(account, "Refused", state=S.FAILED, attempts=3, last_error="550 no")

    response = client.post(action("withdraw", message), follow=True)

    assert response.context["form"]["subject"].value() == "Refused"
    values = {
        name: response.context["form"][name].value()
        for name in response.context["form"].fields
        if name != "attachments"
    }
    body = {k: v for k, v in {**values, "subject": "Fixed"}.items() if v is not None}
    with mock.patch("mailbox.services.compose.send_message_task"):
        assert client.post(reverse("mail:compose"), body).status_code == 302
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (S.QUEUED, 0, "")
    assert message.subject == "Fixed" and OutgoingMessage.objects.count() == 1


def test_a_message_already_on_its_way_cannot_be_withdrawn(alice: Any) -> None:
    client, account = alice
    past = timezone.now() - dt.timedelta(seconds=1)
    message = queued(account, "Too late", send_at=past, next_attempt_at=past)

    response = client.post(action("withdraw", message), follow=True)

    assert response.redirect_chain[-1][0] == URL
    assert "Too late to take it back" in response.content.decode()
    message.refresh_from_db()
    assert message.state == S.QUEUED


def test_it_arrived_marks_an_unknown_message_sent_and_its_copy_follows(alice: Any) -> None:
    client, account = alice
    message = queued(account, "Did it go", state=S.UNKNOWN, last_error="lost")

    response = client.post(action("arrived", message), follow=True)

    message.refresh_from_db()
    assert (message.state, message.last_error) == (S.SENT, "")
    assert message.sent_at is not None and message.sent_copy_state == SentCopyState.PENDING
    assert "Marked as sent" in response.content.decode()
    assert claim(message.pk, "worker", now=timezone.now() + 2 * HOUR) is False  # never resent


def test_send_again_queues_an_unknown_message_due_now(alice: Any) -> None:
    client, account = alice
    message = queued(account, "Try once more", state=S.UNKNOWN, attempts=1, last_error="lost")

    response = client.post(action("send_again", message), follow=True)

    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (S.QUEUED, 0, "")
    assert message.next_attempt_at <= timezone.now()
    assert "queued to be sent again" in response.content.decode()
    assert claim(message.pk, "worker")


@pytest.mark.parametrize("name", ["arrived", "send_again"])
def test_the_unknown_choices_change_nothing_on_another_state(alice: Any, name: str) -> None:
    client, account = alice
    message = queued(account, "Fine", state=S.SENT, sent_at=timezone.now())

    response = client.post(action(name, message), follow=True)

    assert "no longer waiting for your answer" in response.content.decode()
    message.refresh_from_db()
    assert message.state == S.SENT


@pytest.mark.parametrize(
    ("name", "state"), [("withdraw", S.QUEUED), ("arrived", S.UNKNOWN), ("send_again", S.UNKNOWN)]
)
def test_another_persons_outgoing_message_answers_404_and_stays_as_it_was(
    alice: Any, name: str, state: str
) -> None:
    _, account = alice
    message = queued(account, "Private plans", state=state)
    before = OutgoingMessage.objects.filter(pk=message.pk).values().get()
    bob, _, _ = make_person("bob")
    client = signed_in(bob)

    assert client.post(action(name, message)).status_code == 404
    assert OutgoingMessage.objects.filter(pk=message.pk).values().get() == before
    assert "Private plans" not in client.get(URL).content.decode()


def test_send_through_htmx_still_lands_on_the_inbox_page_with_undo(
    alice: Any, settings: Settings
) -> None:
    """Were htmx to submit compose, it gets HX-Redirect (a whole page load), not a redirect it
    would follow and swap in, which would spend the Undo note inside a fragment."""
    settings.MAIL_UNDO_SEND_SECONDS = 10
    client, account = alice
    form = client.get(reverse("mail:compose")).context["form"]
    values = {name: form[name].value() for name in form.fields if name != "attachments"}
    body = {k: v for k, v in {**values, "to": "bob@example.test", "subject": "Hi"}.items() if v}
    with mock.patch("mailbox.services.compose.send_message_task"):
        response = client.post(reverse("mail:compose"), body, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("mail:inbox")
    outgoing = OutgoingMessage.objects.get(account=account)
    inbox = client.get(reverse("mail:inbox")).content.decode()
    assert f'action="{reverse("mail:undo_send", args=[outgoing.pk])}"' in inbox
    assert ">Undo</button>" in inbox
