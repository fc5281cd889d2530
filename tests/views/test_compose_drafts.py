"""Drafts on the compose page (issue 6, point 3): the autosave endpoint answers with the words
for the status line and stores what was typed, unfinished addresses too; Save draft and Discard
draft work without JavaScript; a draft reopens, from the saved row or from a message in the
Drafts folder, with the same Message-ID; another person's draft or identity answers 404."""

import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import Identity, MailAccount
from mailbox.models import ComposeUpload, Draft, Folder, FolderRole, OutgoingMessage
from tests.views.message_support import deliver, mail, make_person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

COMPOSE = reverse("mail:compose")
SAVE = reverse("mail:draft_save")


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


@pytest.fixture
def alice() -> tuple[Client, MailAccount, Identity]:
    user, account, _ = make_person("alice")
    return signed_in(user), account, account.identities.get()


def typed(identity: Identity, **changes: Any) -> dict[str, Any]:
    values = {
        "identity": identity.pk,
        "to": "Bob <bob@example.test>",
        "cc": "",
        "bcc": "",
        "subject": "Plans",
        "text": "First words.\n",
        "message_id": "<draft.page@example.test>",
        "in_reply_to": "",
        "references": "",
    }
    return {**values, **changes}


def post(client: Client, url: str, values: dict[str, Any]) -> Any:
    with mock.patch("mailbox.tasks.drafts.store_server_draft_task") as task:
        response = client.post(url, values)
    response.task = task
    return response


def opened(client: Client, query: dict[str, str]) -> dict[str, Any]:
    response = client.get(COMPOSE, query)
    assert response.status_code == 200
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields if name != "attachments"}


def test_the_page_offers_save_and_discard_and_a_status_line(alice: Any, settings: Any) -> None:
    client, _, _ = alice
    settings.MAIL_DRAFT_SAVE_SECONDS = 2.5

    page = client.get(COMPOSE).content.decode()

    assert re.search(r'<button type="submit" name="action" value="draft"[^>]*>Save draft<', page)
    assert re.search(r'name="action" value="discard"[^>]*>Discard draft<', page)
    assert page.index(">Send</button>") < page.index(">Save draft</button>")  # Enter sends
    assert re.search(r'role="status"\s+data-save-url="/mail/drafts/save/"', page)
    assert 'data-save-seconds="2.5"' in page
    assert 'src="/static/compose-draft.js"' in page


def test_autosave_stores_what_was_typed_and_says_when(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, _, identity = alice
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, SAVE, typed(identity, to="bob@"))
        second = post(client, SAVE, typed(identity, to="bob@exam", text="More.\n"))

    assert first.status_code == second.status_code == 200
    assert re.fullmatch(r"Draft saved \d\d:\d\d", second.json()["status"])
    draft = Draft.objects.get()
    assert (draft.to, draft.text, draft.version) == ("bob@exam", "More.\n", 2)
    assert draft.message_id == "<draft.page@example.test>" and draft.identity == identity
    second.task.delay.assert_called_once_with(draft.pk)  # the server copy, after the commit
    assert not OutgoingMessage.objects.exists()


def test_autosave_without_a_message_id_is_refused_in_words(alice: Any) -> None:
    client, _, identity = alice

    response = post(client, SAVE, typed(identity, message_id="nonsense"))

    assert response.status_code == 400
    assert response.json()["status"].startswith("Draft not saved: This ")
    assert not Draft.objects.exists()


def test_another_persons_identity_or_draft_answers_404() -> None:
    alice_user, alice_account, _ = make_person("alice")
    bob_user, bob_account, _ = make_person("bob")
    alice_client, bob_client = signed_in(alice_user), signed_in(bob_user)
    alice_identity = alice_account.identities.get()
    post(alice_client, SAVE, typed(alice_identity))
    draft = Draft.objects.get()

    assert post(bob_client, SAVE, typed(alice_identity, text="Taken")).status_code == 404
    action = {**typed(alice_identity), "action": "draft"}
    assert post(bob_client, COMPOSE, action).status_code == 404
    assert bob_client.get(COMPOSE, {"draft": draft.pk}).status_code == 404
    assert bob_client.get(COMPOSE, {"draft": "x"}).status_code == 404
    # Bob discarding the same Message-ID touches only his own drafts (he has none).
    bob_discard = {**typed(bob_account.identities.get()), "action": "discard"}
    assert post(bob_client, COMPOSE, bob_discard).status_code == 302
    assert Draft.objects.get().text == "First words.\n"


def test_save_draft_without_javascript_reopens_the_draft(alice: Any) -> None:
    client, _, identity = alice

    response = post(client, COMPOSE, {**typed(identity, cc="carol@"), "action": "draft"})

    draft = Draft.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{COMPOSE}?draft={draft.pk}"
    assert not OutgoingMessage.objects.exists()
    assert re.search(r"Draft saved \d\d:\d\d", client.get(response["Location"]).content.decode())
    values = opened(client, {"draft": str(draft.pk)})
    assert values["message_id"] == "<draft.page@example.test>"
    assert (values["cc"], values["text"], values["identity"]) == (
        "carol@",
        "First words.\n",
        identity.pk,
    )


def test_discard_draft_without_javascript_deletes_it(alice: Any) -> None:
    client, _, identity = alice
    post(client, SAVE, typed(identity))
    ComposeUpload.objects.create(
        user=identity.account.user,
        message_id="<draft.page@example.test>",
        filename="plan.txt",
        content_type="text/plain",
        size=4,
        path="uploads/none",
    )

    response = post(client, COMPOSE, {**typed(identity), "action": "discard"})

    assert response.status_code == 302 and response["Location"] == reverse("mail:inbox")
    assert not Draft.objects.exists() and not OutgoingMessage.objects.exists()
    assert not ComposeUpload.objects.exists()  # its staged files go with it
    assert "Draft discarded." in client.get(reverse("mail:inbox")).content.decode()


def test_a_message_in_the_drafts_folder_offers_edit_draft(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, account, identity = alice
    drafts = Folder.objects.create(account=account, name="Drafts", role=FolderRole.DRAFTS)
    inbox = Folder.objects.get(account=account, role=FolderRole.INBOX)
    raw = mail(
        sender=f"Alice <{identity.email}>",
        to="Bob <bob@example.test>",
        cc="Carol <carol@example.test>",
        subject="Written elsewhere",
        text="Started on my phone.\n",
        message_id="<phone.1@example.test>",
    )
    draft_location = deliver(drafts, raw)
    received = deliver(inbox, mail(message_id="<other.1@sender.test>"))

    page = client.get(reverse("mail:message", args=[draft_location.pk])).content.decode()
    assert f'href="{COMPOSE}?edit_draft={draft_location.pk}">Edit draft<' in page
    assert (
        "Edit draft" not in client.get(reverse("mail:message", args=[received.pk])).content.decode()
    )

    values = opened(client, {"edit_draft": str(draft_location.pk)})
    assert values["message_id"] == "<phone.1@example.test>" and values["identity"] == identity.pk
    assert values["to"] == "Bob <bob@example.test>" and values["cc"] == "Carol <carol@example.test>"
    assert (values["subject"], values["text"]) == ("Written elsewhere", "Started on my phone.\n")

    # It is a saved draft now, known to be in that folder: Send and Discard remove it there.
    adopted = Draft.objects.get()
    assert (adopted.message_id, adopted.server_account, adopted.server_uid) == (
        "<phone.1@example.test>",
        account,
        draft_location.uid,
    )
    assert client.get(COMPOSE, {"edit_draft": str(received.pk)}).status_code == 404  # no draft

    # Saved again here, the saved row (what was typed) is what reopens.
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, SAVE, typed(identity, message_id="<phone.1@example.test>", to="dave@")
        )
    response.task.delay.assert_called_once_with(adopted.pk)  # replaces the server's copy
    assert opened(client, {"edit_draft": str(draft_location.pk)})["to"] == "dave@"
    assert Draft.objects.get().version == 2


def test_another_persons_drafts_folder_message_answers_404(alice: Any) -> None:
    _, account, _ = alice
    drafts = Folder.objects.create(account=account, name="Drafts", role=FolderRole.DRAFTS)
    location = deliver(drafts, mail(message_id="<phone.2@example.test>"))
    bob_user, _, _ = make_person("bob")

    response = signed_in(bob_user).get(COMPOSE, {"edit_draft": str(location.pk)})

    assert response.status_code == 404


def test_the_drafts_list_shows_the_persons_own_drafts_to_reopen(alice: Any) -> None:
    client, _, identity = alice
    post(client, SAVE, typed(identity, subject="Zephyr notes"))
    draft = Draft.objects.get()
    bob_user, _, _ = make_person("bob")

    page = client.get(reverse("mail:drafts")).content.decode()
    bobs_page = signed_in(bob_user).get(reverse("mail:drafts")).content.decode()

    assert f'href="{COMPOSE}?draft={draft.pk}">Zephyr notes<' in page
    assert "Zephyr" not in bobs_page and "No drafts." in bobs_page
    assert f'href="{reverse("mail:drafts")}"' in client.get(COMPOSE).content.decode()
    assert f'id="sb-drafts" href="{reverse("mail:drafts")}" aria-current="page"' in page
