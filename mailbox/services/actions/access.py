"""Who may act on what: `check_*` turns a user and untrusted ids into that user's rows, and
answers 404 for anything else, whether it belongs to another person or does not exist."""

from collections.abc import Iterable

from django.http import Http404

from accounts.models import User
from mailbox.models import Folder, FolderRole, MessageLocation


class ActionNotPossible(Exception):
    """A request that cannot be done as asked (no Trash folder, a folder name already taken,
    renaming the inbox). Its text is for the person."""


def check_locations_for_user(user: User, location_ids: Iterable[int]) -> list[MessageLocation]:
    """The user's messages with these ids (in id order); 404 if any id is not theirs."""
    wanted = set(location_ids)
    locations = list(
        MessageLocation.objects.select_related("folder")
        .filter(pk__in=wanted, folder__account__user=user, is_deleted=False)
        .order_by("pk")
    )
    if not wanted or len(locations) != len(wanted):
        raise Http404("No such message.")
    return locations


def check_folder_for_user(user: User, folder_id: int) -> Folder:
    try:
        return Folder.objects.select_related("account").get(pk=folder_id, account__user=user)
    except Folder.DoesNotExist:
        raise Http404("No such folder.") from None


def check_move_target_for_user(
    user: User, locations: Iterable[MessageLocation], folder_id: int
) -> Folder:
    """The destination of a move: the user's folder, in the same account as the messages."""
    folder = check_folder_for_user(user, folder_id)
    if any(location.folder.account_id != folder.account_id for location in locations):
        raise ActionNotPossible("Messages can only be moved to a folder of their own account.")
    if not folder.is_selectable:
        raise ActionNotPossible(f"“{folder.display_name}” cannot hold messages.")
    return folder


ROLE_NAMES = {
    FolderRole.TRASH: "Trash",
    FolderRole.ARCHIVE: "Archive",
    FolderRole.JUNK: "Junk",
    FolderRole.INBOX: "Inbox",
}


def role_folder(account_id: int, role: FolderRole) -> Folder:
    """The account's folder for `role`; ActionNotPossible when it has none."""
    folder = Folder.objects.filter(account_id=account_id, role=role, is_selectable=True).first()
    if folder is None:
        raise ActionNotPossible(f"This account has no {ROLE_NAMES.get(role, role.label)} folder.")
    return folder
