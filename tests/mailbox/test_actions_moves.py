"""Moves, deletes, archive, spam and emptying folders, against the real Dovecot."""

import pytest

from mailbox.models import Message, MessageLocation, PendingAction
from mailbox.models.actions import ActionState
from mailbox.services.actions import (
    Flag,
    do_archive,
    do_delete,
    do_empty_folder,
    do_mark_not_spam,
    do_mark_spam,
    do_move,
    do_set_flag,
    server,
)
from mailbox.services.sync import sync_account
from tests.mailbox.test_actions import Mailbox
from tests.mailbox.test_actions import box as box  # the fixture, shared

pytestmark = pytest.mark.django_db


def test_a_move_reaches_the_server_and_keeps_the_content(box: Mailbox) -> None:
    one = box.location("One")
    do_move([one], box.folder("Archive"))

    moved = box.location("One")
    assert moved.folder.name == "Archive" and moved.uid < 0  # placeholder until the server says
    assert box.folder("INBOX").message_count == 2 and box.folder("Archive").message_count == 1
    box.replay()

    archive = box.on_server("Archive")
    assert "One" not in box.on_server() and "One" in archive
    moved = box.location("One")
    assert (moved.pk, moved.message_id) == (one.pk, one.message_id)
    assert moved.uid == archive["One"].uid  # from COPYUID
    box.sync()  # the sync finds it where we put it: no second copy
    assert MessageLocation.objects.filter(message__subject="One").count() == 1


def test_flags_set_before_and_after_a_move_land_on_the_right_uid(box: Mailbox) -> None:
    do_set_flag([box.location("One")], Flag.SEEN, True)  # replayed in INBOX
    do_move([box.location("One")], box.folder("Archive"))
    do_set_flag([box.location("One")], Flag.FLAGGED, True)  # replayed in Archive, new UID

    assert box.replay().done == 3
    assert {"\\Seen", "\\Flagged"} <= box.on_server("Archive")["One"].flags


def test_delete_goes_to_trash_then_for_good(box: Mailbox) -> None:
    do_delete([box.location("One")])
    box.replay()
    assert "One" in box.on_server("Trash") and box.location("One").folder.name == "Trash"

    do_delete([box.location("One")])

    hidden = MessageLocation.objects.get(message__subject="One")
    assert hidden.is_deleted and box.folder("Trash").message_count == 0
    box.replay()
    assert box.on_server("Trash") == {}
    assert not Message.objects.filter(account=box.account, subject="One").exists()


def test_archive_spam_and_not_spam(box: Mailbox) -> None:
    do_archive([box.location("One")])
    do_mark_spam([box.location("Two")])
    box.replay()
    assert "One" in box.on_server("Archive") and "Two" in box.on_server("Junk")

    do_mark_not_spam([box.location("Two")])
    box.replay()

    assert set(box.on_server()) == {"Two", "Three"} and box.on_server("Junk") == {}
    assert box.location("Two").uid == box.on_server()["Two"].uid


def test_emptying_trash_and_junk(box: Mailbox) -> None:
    box.seed(["Old", "Older"], folder="Trash")
    box.seed(["Spam"], folder="Junk")
    box.sync()

    assert do_empty_folder(box.folder("Trash")) == 2
    assert do_empty_folder(box.folder("Junk")) == 1
    box.replay()

    assert box.on_server("Trash") == {} and box.on_server("Junk") == {}
    assert not MessageLocation.objects.filter(folder__name__in=["Trash", "Junk"]).exists()
    assert len(box.on_server()) == 3


def test_a_refused_move_puts_the_message_back_and_says_why(box: Mailbox) -> None:
    box.seed(["Elsewhere"], folder="Projects")
    box.sync()
    uid = box.location("One").uid
    do_move([box.location("One")], box.folder("Projects"))
    with box.servers.imap(box.address) as other_client:  # deleted in another mail program
        other_client.delete("Projects")

    report = box.replay()

    assert report.failed == 1
    action = PendingAction.objects.get(account=box.account)
    assert action.state == ActionState.FAILED and "“Projects”" in action.error
    back = box.location("One")
    assert (back.folder.name, back.uid) == ("INBOX", uid)
    assert box.folder("INBOX").message_count == 3 and "One" in box.on_server()


def test_a_move_interrupted_after_the_server_did_it_finishes(box: Mailbox) -> None:
    inbox_uid = box.location("One").uid
    do_move([box.location("One")], box.folder("Archive"))
    with box.servers.imap(box.address) as client:  # the replay that died had got this far
        client.select("INBOX")
        client.uid("MOVE", str(inbox_uid), "Archive")
    PendingAction.objects.update(state=ActionState.RUNNING)

    assert box.replay().done == 1  # not in INBOX any more: found in Archive by its content

    assert box.location("One").uid == box.on_server("Archive")["One"].uid


def test_a_server_that_does_not_say_the_new_uid(box: Mailbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real_move = server.move

    def without_copyuid(client, uids, target):  # type: ignore[no-untyped-def]
        return dict.fromkeys(real_move(client, uids, target))  # as servers without UIDPLUS

    monkeypatch.setattr(server, "move", without_copyuid)
    do_move([box.location("One"), box.location("Two")], box.folder("Archive"))

    assert box.replay().done == 2

    archive = box.on_server("Archive")
    assert box.location("One").uid == archive["One"].uid
    assert box.location("Two").uid == archive["Two"].uid


def test_a_sync_while_a_move_waits_keeps_the_moved_message(box: Mailbox) -> None:
    one = box.location("One")
    do_move([one], box.folder("Archive"))
    do_set_flag([box.location("Two")], Flag.SEEN, True)

    box.seed(["New"], folder="Archive")  # the sync has work in the folder we moved to
    report = sync_account(box.account.pk)  # one that held the lease before the replay started

    assert report.error == "" and box.location("One").folder.name == "Archive"
    box.replay()
    box.sync()
    moved = box.location("One")
    assert (moved.pk, moved.uid) == (one.pk, box.on_server("Archive")["One"].uid)
    assert MessageLocation.objects.filter(message__subject="One").count() == 1
