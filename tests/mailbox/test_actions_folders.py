"""Creating, renaming and deleting folders, against the real Dovecot."""

import pytest

from mailbox.models import Folder, PendingAction
from mailbox.models.actions import ActionState
from mailbox.services.actions import (
    ActionNotPossible,
    do_create_folder,
    do_delete_folder,
    do_move,
    do_rename_folder,
)
from tests.mailbox.test_actions import Mailbox
from tests.mailbox.test_actions import box as box  # the fixture, shared

pytestmark = pytest.mark.django_db


def server_folders(box: Mailbox) -> set[str]:
    with box.servers.imap(box.address) as client:
        _, listing = client.list()
    return {line.decode().rsplit(' "/" ', 1)[-1].strip('"') for line in listing}


def test_create_rename_and_delete_reach_the_server(box: Mailbox) -> None:
    projects = do_create_folder(box.account, "Projects")
    do_create_folder(box.account, "2024", parent=projects)
    do_move([box.location("One")], Folder.objects.get(name="Projects/2024"))
    box.replay()
    assert {"Projects", "Projects/2024"} <= server_folders(box)
    assert "One" in box.on_server("Projects/2024")

    do_rename_folder(projects, "Clients")

    renamed = Folder.objects.filter(name__startswith="Clients").values_list("name", flat=True)
    assert set(renamed) == {"Clients", "Clients/2024"}
    box.replay()
    assert {"Clients", "Clients/2024"} <= server_folders(box)
    assert "Projects" not in server_folders(box)
    assert "One" in box.on_server("Clients/2024")

    do_delete_folder(Folder.objects.get(name="Clients/2024"))
    do_delete_folder(Folder.objects.get(name="Clients"))
    box.replay()
    assert not {"Clients", "Clients/2024"} & server_folders(box)
    assert not Folder.objects.filter(name__startswith="Clients").exists()
    assert set(PendingAction.objects.values_list("state", flat=True)) == {ActionState.DONE}


def test_a_move_queued_before_a_rename_uses_the_old_name(box: Mailbox) -> None:
    box.seed(["Filed"], folder="Projects")
    box.sync()
    do_move([box.location("One")], box.folder("Projects"))
    do_rename_folder(box.folder("Projects"), "Clients")  # replayed after the move

    assert box.replay().done == 2
    assert {"Filed", "One"} == set(box.on_server("Clients"))
    assert box.location("One").uid == box.on_server("Clients")["One"].uid


def test_a_refused_rename_puts_the_name_back_and_says_why(box: Mailbox) -> None:
    box.seed(["Filed"], folder="Projects")
    box.sync()
    with box.servers.imap(box.address) as other_client:  # a name we have not seen yet
        other_client.create("Clients")
    do_rename_folder(box.folder("Projects"), "Clients")

    assert box.replay().failed == 1

    action = PendingAction.objects.get(account=box.account)
    assert action.state == ActionState.FAILED
    assert action.error.startswith("Renaming the folder did not work: the server refused it")
    assert box.location("Filed").folder.name == "Projects"
    assert "Filed" in box.on_server("Projects")


def test_a_folder_created_and_deleted_before_the_replay_never_reaches_the_server(
    box: Mailbox,
) -> None:
    do_delete_folder(do_create_folder(box.account, "Brief"))

    assert not PendingAction.objects.exists()
    assert box.replay().done == 0 and "Brief" not in server_folders(box)


def test_names_that_cannot_be(box: Mailbox) -> None:
    for name, words in [
        ("", "needs a name"),
        ("a/b", "cannot contain"),
        ("INBOX", "already"),
        ("Archive", "already"),
        ("x" * 201, "at most"),
    ]:
        with pytest.raises(ActionNotPossible, match=words):
            do_create_folder(box.account, name)
    with pytest.raises(ActionNotPossible, match="keeps its name"):
        do_rename_folder(box.folder("INBOX"), "Post")
    with pytest.raises(ActionNotPossible, match="cannot be deleted"):
        do_delete_folder(box.folder("Trash"))
    assert not PendingAction.objects.exists()


def test_a_sync_while_a_new_folder_waits_keeps_it_and_what_was_moved_there(
    box: Mailbox,
) -> None:
    do_move([box.location("One")], do_create_folder(box.account, "Projects"))

    box.sync()  # one that held the lease before the replay started

    assert box.location("One").folder.name == "Projects"
    assert box.replay().done == 2
    assert "One" in box.on_server("Projects")
