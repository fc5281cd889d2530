"""Saved responses (issue 6, point 1): a person adds, lists, edits and deletes named texts;
compose's tools row offers them; another person's ids answer 404 and change nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mailbox.models import SavedResponse
from tests.views.message_support import make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def alice() -> tuple[User, Client]:
    user, _, _ = make_person("alice")
    return user, signed_in(user)


@pytest.fixture
def bobs_response() -> SavedResponse:
    bob, _, _ = make_person("bob")
    return SavedResponse.objects.create(user=bob, name="Bob's thanks", body="Cheers, Bob")


def test_a_person_adds_edits_and_deletes_a_response(alice: tuple[User, Client]) -> None:
    user, client = alice
    body = "Thank you for your message.\r\nI will answer next week."

    response = client.post(reverse("mail:response_add"), {"name": "Away", "body": body})
    assert response.status_code == 302 and response["Location"] == reverse("mail:responses")
    saved = SavedResponse.objects.get(user=user)
    assert (saved.name, saved.body) == ("Away", body.replace("\r\n", "\n"))
    page = client.get(reverse("mail:responses")).content.decode()
    assert "Away" in page and "I will answer next week." in page

    edit = reverse("mail:response_edit", args=[saved.pk])
    assert 'value="Away"' in client.get(edit).content.decode()
    client.post(edit, {"name": "Holiday", "body": "Back on Monday."})
    saved.refresh_from_db()
    assert (saved.name, saved.body) == ("Holiday", "Back on Monday.")

    delete = reverse("mail:response_delete", args=[saved.pk])
    assert "Delete response" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert not SavedResponse.objects.filter(user=user).exists()
    assert (
        "You have no saved responses yet." in client.get(reverse("mail:responses")).content.decode()
    )


def test_names_are_unique_among_a_persons_own_and_texts_not_empty(
    alice: tuple[User, Client], bobs_response: SavedResponse
) -> None:
    user, client = alice
    SavedResponse.objects.create(user=user, name="Away", body="Out")
    add = reverse("mail:response_add")

    page = client.post(add, {"name": " Away ", "body": "Again"}).content.decode()
    assert "You already have a saved response called “Away”." in page
    page = client.post(add, {"name": "Blank", "body": "  \n "}).content.decode()
    assert "Write the text to insert." in page
    # Another person's name is free to take.
    assert client.post(add, {"name": bobs_response.name, "body": "Mine"}).status_code == 302
    assert SavedResponse.objects.filter(user=user).count() == 2


def test_another_persons_response_answers_404_and_stays(
    alice: tuple[User, Client], bobs_response: SavedResponse
) -> None:
    _, client = alice
    edit = reverse("mail:response_edit", args=[bobs_response.pk])
    delete = reverse("mail:response_delete", args=[bobs_response.pk])

    assert client.get(edit).status_code == 404
    assert client.post(edit, {"name": "Taken", "body": "Over"}).status_code == 404
    assert client.get(delete).status_code == 404
    assert client.post(delete).status_code == 404
    bobs_response.refresh_from_db()
    assert (bobs_response.name, bobs_response.body) == ("Bob's thanks", "Cheers, Bob")
    for url in (reverse("mail:responses"), reverse("mail:response_picker")):
        assert "Bob" not in client.get(url).content.decode()


def test_compose_offers_the_persons_responses(
    alice: tuple[User, Client], bobs_response: SavedResponse
) -> None:
    user, client = alice
    SavedResponse.objects.create(user=user, name="Thanks", body='Thanks! <b>"quoted"</b>')

    page = client.get(reverse("mail:compose")).content.decode()
    assert f'hx-get="{reverse("mail:response_picker")}"' in page
    assert f'<a href="{reverse("mail:responses")}">Saved responses</a>' in page
    picker = client.get(reverse("mail:response_picker")).content.decode()
    assert '<label for="saved-response">Saved response</label>' in picker
    assert 'data-body="Thanks! &lt;b&gt;&quot;quoted&quot;&lt;/b&gt;">Thanks</option>' in picker
    assert ">Insert saved response</button>" in picker


def test_the_sidebar_leads_to_the_responses(alice: tuple[User, Client]) -> None:
    _, client = alice

    page = client.get(reverse("mail:inbox")).content.decode()
    assert f'href="{reverse("mail:responses")}"' in page
