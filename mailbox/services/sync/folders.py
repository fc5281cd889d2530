"""The server's folder list into Folder rows: new ones added, roles kept current, gone ones
removed (their locations with them) — except where a folder change made here still waits to
reach the server: a folder created or renamed here stays, and one deleted here, or the old
name of one renamed here, does not come back."""

from django.db import transaction

from accounts.models import MailAccount
from mailbox.models import Folder, PendingAction
from mailbox.models.actions import ActionKind, ActionState
from mailbox.protocols.imap_folders import FolderInfo
from mailbox.services.sync.removal import forget_locations


def store_folder_list(account: MailAccount, infos: list[FolderInfo]) -> list[Folder]:
    """The account's selectable folders after the update, INBOX first."""
    stored = {folder.name: folder for folder in Folder.objects.filter(account=account)}
    with transaction.atomic():
        keep, hidden = _waiting_folder_changes(account)
        infos = [info for info in infos if info.name not in hidden]
        for info in infos:
            folder = stored.get(info.name) or Folder(account=account, name=info.name)
            folder.delimiter = info.delimiter or ""
            folder.role = info.role or ""
            folder.is_selectable = info.is_selectable
            folder.save()
            stored[info.name] = folder
        for info in infos:
            parent = stored.get(info.parent) if info.parent else None
            if stored[info.name].parent_id != (parent.pk if parent else None):
                stored[info.name].parent = parent
                stored[info.name].save(update_fields=["parent"])
        for name in set(stored) - {info.name for info in infos}:
            if not stored[name].is_local and stored[name].pk not in keep:
                forget_locations(stored[name], None)
                stored.pop(name).delete()
    selectable = [folder for folder in stored.values() if folder.is_selectable]
    return sorted(selectable, key=lambda folder: (folder.role != "inbox", folder.name))


def _waiting_folder_changes(account: MailAccount) -> tuple[set[int], set[str]]:
    """(ids of folders to keep although the server lacks them, server names to ignore)."""
    waiting = PendingAction.objects.filter(
        account=account,
        state__in=[ActionState.PENDING, ActionState.RUNNING],
        kind__in=[ActionKind.CREATE_FOLDER, ActionKind.RENAME_FOLDER, ActionKind.DELETE_FOLDER],
    )
    keep: set[int] = set()
    hidden: set[str] = set()
    for action in waiting:
        if action.kind == ActionKind.DELETE_FOLDER:
            hidden.add(action.payload.get("name", ""))
        elif action.folder_id:
            keep.add(action.folder_id)
            if action.kind == ActionKind.RENAME_FOLDER:
                hidden.add(action.payload.get("old_name", ""))
    return keep, hidden
