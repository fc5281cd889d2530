"""The local store's invariants: content once, locations unique, searchable on both databases."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from mailbox.models import Folder, FolderRole, Message, MessageLocation, PendingAction
from mailbox.search import matching, search_text
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def account():  # type: ignore[no-untyped-def]
    return make_account(User.objects.create_user("alice"), "alice@example.test")


def test_the_same_content_is_stored_once_per_account(account) -> None:
    Message.objects.create(account=account, sha256="a" * 64)

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(account=account, sha256="a" * 64)
    # Envelopes whose body is not in yet have no hash and never collide.
    Message.objects.create(account=account)
    Message.objects.create(account=account)


def test_a_uid_has_one_location_per_folder_and_a_move_is_a_new_location(account) -> None:
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    archive = Folder.objects.create(account=account, name="Archive", role=FolderRole.ARCHIVE)
    message = Message.objects.create(account=account, subject="Hello")
    MessageLocation.objects.create(folder=inbox, message=message, uid=7)

    with pytest.raises(IntegrityError), transaction.atomic():
        MessageLocation.objects.create(folder=inbox, message=message, uid=7)
    MessageLocation.objects.create(folder=archive, message=message, uid=7)

    assert message.locations.count() == 2


def test_identical_waiting_actions_are_one(account) -> None:
    PendingAction.objects.create(account=account, kind="set_flags", dedupe_key="seen:1")

    with pytest.raises(IntegrityError), transaction.atomic():
        PendingAction.objects.create(account=account, kind="set_flags", dedupe_key="seen:1")
    PendingAction.objects.filter(dedupe_key="seen:1").update(state="done")
    PendingAction.objects.create(account=account, kind="set_flags", dedupe_key="seen:1")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("budget", {"budget"}),
        ("BUDGET review", {"budget"}),
        ("müller", {"umlaut"}),
        ("rev", {"budget"}),  # prefix of the last word, for search as you type
        ("invoice", set()),
        ("", {"budget", "umlaut"}),
        ("'; DROP TABLE mailbox_message; --", set()),
        ("anna", {"budget", "umlaut"}),
        # Accents or none, composed or decomposed (as macOS writes them): the same word.
        ("muller", {"umlaut"}),
        ("Mu\u0308ller gruße", {"umlaut"}),
        # Parts of addresses, names with "_", numbers: split as the text was, on either database.
        ("example", {"budget"}),
        ("anna@example.test", {"budget"}),
        ("report_2026", {"budget"}),
        ("v3.14 numbers", {"budget"}),
        ("test numbers", {"budget"}),
    ],
)
def test_full_text_search_finds_words_on_either_database(account, query: str, expected) -> None:
    budget = (
        "Budget",
        "Anna Smith anna@example.test",
        "Please review the numbers: report_2026 v3.14",
    )
    Message.objects.create(account=account, subject="budget", search_text=search_text(*budget))
    umlaut = search_text("Grüße von Anna Müller")
    Message.objects.create(account=account, subject="umlaut", search_text=umlaut)

    found = matching(Message.objects.filter(account=account), query)

    assert {message.subject for message in found} == expected


def test_search_follows_changes_of_the_text(account) -> None:
    message = Message.objects.create(account=account, subject="x", search_text="before")
    message.search_text = "after"
    message.save(update_fields=["search_text"])

    assert list(matching(Message.objects.all(), "after")) == [message]
    assert list(matching(Message.objects.all(), "before")) == []
    message.delete()
    assert list(matching(Message.objects.all(), "after")) == []
