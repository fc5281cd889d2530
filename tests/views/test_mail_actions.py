"""Acting on selected messages from a list: one POST to mail:actions."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mailbox.models import Folder, FolderRole, MessageLocation, PendingAction
from mailbox.models.actions import ActionKind
from tests.views.list_support import Box, add_mail, make_box, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]
URL = reverse("mail:actions")


@pytest.fixture
def alice() -> User:
    return make_user("alice")


@pytest.fixture
def browser(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def box(alice: User) -> Box:
    return make_box(alice, "alice@home.test")


def fresh(location: MessageLocation) -> MessageLocation:
    return MessageLocation.objects.select_related("folder").get(pk=location.pk)


def act(browser: Client, action: str, *locations: MessageLocation, **fields: object) -> str:
    """Posts like the list's form; returns the page it comes back to (with its messages)."""
    body = {"action": action, "location": [str(loc.pk) for loc in locations], **fields}
    body.setdefault("next", reverse("mail:inbox"))
    response = browser.post(URL, body, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def queued(kind: ActionKind) -> int:
    return PendingAction.objects.filter(kind=kind).count()


@pytest.mark.parametrize(
    ("action", "field", "value", "words"),
    [
        ("read", "is_seen", True, "Marked 2 messages read."),
        ("star", "is_flagged", True, "Starred 2 messages."),
    ],
)
def test_flags_change_here_and_wait_for_the_server(
    browser: Client, box: Box, action: str, field: str, value: bool, words: str
) -> None:
    one, two = add_mail(box.inbox, "One"), add_mail(box.inbox, "Two")

    html = act(browser, action, one, two)

    assert words in html
    assert all(getattr(fresh(loc), field) is value for loc in (one, two))
    assert queued(ActionKind.SET_FLAGS) == 2
    undo = {"read": "unread", "star": "unstar"}[action]
    act(browser, undo, one)
    assert getattr(fresh(one), field) is not value and getattr(fresh(two), field) is value


@pytest.mark.parametrize(
    ("action", "role", "words"),
    [
        ("archive", FolderRole.ARCHIVE, "Archived 1 message."),
        ("delete", FolderRole.TRASH, "Deleted 1 message."),
        ("spam", FolderRole.JUNK, "Moved 1 message to Junk."),
    ],
)
def test_moves_to_the_accounts_special_folders(
    browser: Client, box: Box, action: str, role: str, words: str
) -> None:
    location = add_mail(box.inbox, "Moving")

    assert words in act(browser, action, location)
    assert fresh(location).folder_id == box.folders[role].pk
    assert queued(ActionKind.MOVE) == 1


def test_not_spam_goes_back_to_the_inbox(browser: Client, box: Box) -> None:
    location = add_mail(box.folders[FolderRole.JUNK], "Wrongly junk")

    act(browser, "not_spam", location)

    assert fresh(location).folder_id == box.inbox.pk


def test_move_to_a_chosen_folder(browser: Client, box: Box) -> None:
    location = add_mail(box.inbox, "To file")
    target = Folder.objects.create(account=box.account, name="Receipts", delimiter="/")

    html = act(browser, "move", location, folder=str(target.pk))

    assert "Moved 1 message to Receipts." in html
    assert fresh(location).folder_id == target.pk


def test_a_conversation_row_acts_on_all_its_messages(browser: Client, box: Box) -> None:
    one, two = add_mail(box.inbox, "One"), add_mail(box.inbox, "Two")

    browser.post(URL, {"action": "archive", "location": f"{one.pk},{two.pk}"})

    assert {fresh(one).folder_id, fresh(two).folder_id} == {box.folders["archive"].pk}


def test_mark_a_whole_folder_read(browser: Client, box: Box) -> None:
    locations = [add_mail(box.inbox, f"Unread {n}") for n in range(3)]

    html = act(browser, "folder_read", read_folder=str(box.inbox.pk))

    assert "Marked 3 messages read." in html
    assert all(fresh(location).is_seen for location in locations)


def test_what_cannot_be_done_is_said_and_nothing_changes(
    browser: Client, alice: User, box: Box
) -> None:
    location = add_mail(box.inbox, "Stays")
    other = make_box(alice, "alice@work.test")
    Folder.objects.filter(pk=box.folders[FolderRole.ARCHIVE].pk).delete()

    no_archive = act(browser, "archive", location)
    across = act(browser, "move", location, folder=str(other.inbox.pk))
    nothing_chosen = act(browser, "move", location)
    nothing_selected = act(browser, "read")
    unknown = act(browser, "explode", location)

    assert "This account has no Archive folder." in no_archive
    assert "moved to a folder of their own account" in across
    assert "Choose the folder to move them to." in nothing_chosen
    assert "Select one or more messages first." in nothing_selected
    assert "Choose what to do" in unknown
    assert fresh(location).folder_id == box.inbox.pk and not fresh(location).is_seen
    assert PendingAction.objects.count() == 0


def test_another_persons_messages_and_folders_answer_404_and_nothing_changes(
    browser: Client, box: Box
) -> None:
    mine = add_mail(box.inbox, "Mine")
    bob = make_box(make_user("bob"), "bob@bob.test")
    theirs = add_mail(bob.inbox, "Theirs")

    for body in (
        {"action": "read", "location": [mine.pk, theirs.pk]},
        {"action": "archive", "location": [f"{mine.pk},{theirs.pk}"]},
        {"action": "move", "location": [mine.pk], "folder": bob.folders["archive"].pk},
        {"action": "folder_read", "read_folder": bob.inbox.pk},
        {"action": "read", "location": ["1e3"]},
        {"action": "read", "location": ["-1"]},
        {"action": "read", "location": ["²"]},
    ):
        assert browser.post(URL, body).status_code == 404, body
    assert not fresh(mine).is_seen and not fresh(theirs).is_seen
    assert fresh(mine).folder_id == box.inbox.pk
    assert PendingAction.objects.count() == 0


def test_it_goes_back_to_the_list_it_came_from_and_only_there(browser: Client, box: Box) -> None:
    location = add_mail(box.inbox, "One")
    folder_url = reverse("mail:folder", args=[box.inbox.pk]) + "?view=threads"

    back = browser.post(URL, {"action": "read", "location": location.pk, "next": folder_url})
    away = browser.post(URL, {"action": "read", "location": location.pk, "next": "//evil.test/"})

    assert back["Location"] == folder_url
    assert away["Location"] == reverse("mail:inbox")


def test_htmx_gets_the_refreshed_list_with_the_message(browser: Client, box: Box) -> None:
    location = add_mail(box.inbox, "Read me")
    folder_url = reverse("mail:folder", args=[box.inbox.pk])

    response = browser.post(
        URL,
        {"action": "read", "location": location.pk, "next": folder_url},
        follow=True,
        headers={"HX-Request": "true", "HX-Target": "mail-list"},
    )
    html = response.content.decode()

    assert "<html" not in html and 'id="rows"' in html
    assert "Marked 1 message read." in html
    assert 'class="row"' in html  # no longer bold
    assert 'id="sidebar-body"' in html and 'hx-swap-oob="true"' in html


def test_posting_needs_the_csrf_token(alice: User, box: Box) -> None:
    location = add_mail(box.inbox, "Guarded")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    assert browser.post(URL, {"action": "read", "location": location.pk}).status_code == 403
    assert not fresh(location).is_seen
