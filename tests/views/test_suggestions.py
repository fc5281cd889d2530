"""The address suggestions endpoint (issue 6, point 1): a listbox fragment of the person's
own correspondents for the field being typed in, in one query whatever the mailbox's size;
and Send records the recipients at once, so they are suggested next time."""

from pathlib import Path
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from mailbox.services.correspondents import record_written_to, refresh_from_messages
from tests.views.message_support import deliver, mail, make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = reverse("mail:suggestions")


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


@pytest.fixture
def alice() -> Client:
    user, account, inbox = make_person("alice")
    deliver(inbox, mail(sender="Bob Builder <bob@builder.test>", message_id="<1@b.test>"))
    record_written_to(user, [("Bonnie", "bonnie@cc.test")])
    refresh_from_messages(account.pk)
    return signed_in(user)


def test_it_answers_a_listbox_of_the_persons_correspondents(alice: Client) -> None:
    response = alice.get(URL, {"q": "bo", "field": "cc"})

    page = response.content.decode()
    assert response.status_code == 200
    assert '<ul role="listbox" id="suggest-cc"' in page
    assert page.count('role="option"') == 2
    assert page.index('data-value="Bonnie &lt;bonnie@cc.test&gt;"') < page.index(
        'data-value="Bob Builder &lt;bob@builder.test&gt;"'
    )  # written to first
    assert 'id="suggest-cc-0"' in page and 'id="suggest-cc-1"' in page


def test_it_shows_nothing_of_another_persons_correspondents(alice: Client) -> None:
    bob, _, _ = make_person("bob")
    page = signed_in(bob).get(URL, {"q": "bo"}).content.decode()

    assert "bonnie" not in page and "builder" not in page
    assert 'role="option"' not in page


def test_a_short_or_odd_query_answers_an_empty_list(alice: Client) -> None:
    for query in ({"q": "b"}, {"q": ""}, {}, {"q": "bo", "field": "<script>"}):
        response = alice.get(URL, query)
        assert response.status_code == 200
        page = response.content.decode()
        assert "<script>" not in page
    assert 'id="suggest-to"' in alice.get(URL, {"q": "bo", "field": "from"}).content.decode()


def test_it_takes_one_query_beyond_the_session(
    alice: Client, django_assert_num_queries: mock.Mock
) -> None:
    alice.get(URL, {"q": "zz"})  # the session and the user, once warmed

    with django_assert_num_queries(3):  # the session, the user, the suggestions
        page = alice.get(URL, {"q": "bob bu"}).content.decode()
    assert page.count('role="option"') == 1


def test_sending_a_message_suggests_its_recipients(alice: Client) -> None:
    values = {
        "identity": alice.get(reverse("mail:compose")).context["form"]["identity"].value(),
        "to": "Carol Singer <carol@choir.test>",
        "bcc": "cedric@hidden.test",
        "subject": "Hello",
        "text": "Hi",
        "message_id": "<suggest.1@example.test>",
    }
    with mock.patch("mailbox.services.compose.send_message_task"):
        assert alice.post(reverse("mail:compose"), values).status_code == 302

    page = alice.get(URL, {"q": "c"}).content.decode()  # one letter: nothing
    assert 'role="option"' not in page
    page = alice.get(URL, {"q": "ce"}).content.decode()
    assert 'data-value="cedric@hidden.test"' in page
    page = alice.get(URL, {"q": "sing"}).content.decode()
    assert 'data-value="Carol Singer &lt;carol@choir.test&gt;"' in page
