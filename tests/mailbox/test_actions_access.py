"""Who may act on what, and local folders (POP3) that change here only. No servers needed."""

import pytest
from django.http import Http404

from accounts.models import MailAccount, User
from mailbox.models import Folder, FolderRole, Message, MessageLocation, PendingAction
from mailbox.services.actions import (
    ActionNotPossible,
    Flag,
    check_folder_for_user,
    check_locations_for_user,
    check_move_target_for_user,
    do_delete,
    do_move,
    do_set_flag,
)
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def account_with_mail(owner: str, *, is_local: bool = False) -> MailAccount:
    account = make_account(User.objects.create_user(owner), f"{owner}@example.test")
    for role in (FolderRole.INBOX, FolderRole.TRASH, FolderRole.ARCHIVE):
        name = "INBOX" if role == FolderRole.INBOX else role.label
        folder = Folder.objects.create(account=account, name=name, role=role, is_local=is_local)
        message = Message.objects.create(account=account, subject=f"{owner} in {name}")
        MessageLocation.objects.create(folder=folder, message=message, uid=0 if is_local else 1)
    return account


def location(account: MailAccount, folder: str) -> MessageLocation:
    return MessageLocation.objects.select_related("folder").get(
        folder__account=account, folder__name=folder
    )


def test_another_persons_messages_and_folders_are_404() -> None:
    alice, bob = account_with_mail("alice"), account_with_mail("bob")
    mine, theirs = location(alice, "INBOX"), location(bob, "INBOX")

    assert check_locations_for_user(alice.user, [mine.pk]) == [mine]
    for ids in ([theirs.pk], [mine.pk, theirs.pk], [10**9], []):
        with pytest.raises(Http404):
            check_locations_for_user(alice.user, ids)
    with pytest.raises(Http404):
        check_folder_for_user(alice.user, theirs.folder_id)
    with pytest.raises(Http404):
        check_move_target_for_user(alice.user, [mine], theirs.folder_id)
    assert check_folder_for_user(bob.user, theirs.folder_id) == theirs.folder


def test_a_move_stays_within_its_account() -> None:
    alice = account_with_mail("alice")
    other = make_account(alice.user, "alice@other.test")
    elsewhere = Folder.objects.create(account=other, name="INBOX", role=FolderRole.INBOX)

    with pytest.raises(ActionNotPossible, match="own account"):
        check_move_target_for_user(alice.user, [location(alice, "INBOX")], elsewhere.pk)


def test_deleted_messages_are_no_longer_actionable() -> None:
    alice = account_with_mail("alice")
    trashed = location(alice, "Trash")

    do_delete([trashed])

    with pytest.raises(Http404):
        check_locations_for_user(alice.user, [trashed.pk])


def test_local_folders_change_here_only() -> None:
    pop3 = account_with_mail("carol", is_local=True)
    inbox = location(pop3, "INBOX")

    do_set_flag([inbox], Flag.SEEN, True)
    do_move([inbox], Folder.objects.get(account=pop3, name="Archive"))
    do_delete([location(pop3, "Trash")])

    assert not PendingAction.objects.exists()
    moved = MessageLocation.objects.get(pk=inbox.pk)
    assert (moved.folder.name, moved.uid, moved.is_seen) == ("Archive", 0, True)
    assert not MessageLocation.objects.filter(folder__name="Trash").exists()
    assert not Message.objects.filter(subject="carol in Trash").exists()
