"""The server folder a special-use role lives in, for the copies we APPEND (Sent, Drafts)."""

from accounts.models import MailAccount
from mailbox.models import Folder, FolderRole
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_folders import create_folder, list_folders


def folder_for_role(
    account: MailAccount, client: ImapClient, role: FolderRole, new_name: str
) -> str:
    """The synced folder with `role`; else the server's (its LIST says so); else `new_name`,
    created."""
    known = Folder.objects.filter(account=account, role=role, is_local=False)
    name = known.values_list("name", flat=True).first()
    if name:
        return name
    for folder in list_folders(client):
        if folder.role == role:
            return folder.name
    create_folder(client, new_name)
    return new_name
