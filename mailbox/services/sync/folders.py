"""The server's folder list into Folder rows: new ones added, roles kept current, gone ones
removed (their locations with them)."""

from django.db import transaction

from accounts.models import MailAccount
from mailbox.models import Folder
from mailbox.protocols.imap_folders import FolderInfo
from mailbox.services.sync.removal import forget_locations


def store_folder_list(account: MailAccount, infos: list[FolderInfo]) -> list[Folder]:
    """The account's selectable folders after the update, INBOX first."""
    stored = {folder.name: folder for folder in Folder.objects.filter(account=account)}
    with transaction.atomic():
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
            if not stored[name].is_local:
                forget_locations(stored[name], None)
                stored.pop(name).delete()
    selectable = [folder for folder in stored.values() if folder.is_selectable]
    return sorted(selectable, key=lambda folder: (folder.role != "inbox", folder.name))
