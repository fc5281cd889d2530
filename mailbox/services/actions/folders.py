"""Folder actions: create, rename, delete. The store changes at once; the server follows through
the replay, which works from the names recorded here (a folder row may be gone by then)."""

import hashlib

from django.db import transaction

from accounts.models import MailAccount
from mailbox.models import Folder, PendingAction
from mailbox.models.actions import ActionKind, ActionState
from mailbox.protocols.types import Protocol
from mailbox.services.actions.access import ActionNotPossible
from mailbox.services.actions.local import forget
from mailbox.services.actions.queue import Entry, folder_key, record

MAX_NAME = 200
NOT_IN_NAMES = frozenset("%*")  # LIST wildcards: a folder named so could not be listed alone


def full_name(account: MailAccount, name: str, parent: Folder | None) -> str:
    """The server name for `name` under `parent`; ActionNotPossible when it cannot be one."""
    leaf = name.strip()
    delimiter = _delimiter(account, parent)
    if not leaf:
        raise ActionNotPossible("A folder needs a name.")
    if len(leaf) > MAX_NAME:
        raise ActionNotPossible(f"A folder name can have at most {MAX_NAME} characters.")
    if (delimiter and delimiter in leaf) or NOT_IN_NAMES & set(leaf):
        forbidden = ", ".join(sorted({delimiter, *NOT_IN_NAMES} - {""}))
        raise ActionNotPossible(f"A folder name cannot contain {forbidden}.")
    if not leaf.isprintable():
        raise ActionNotPossible("A folder name cannot contain control characters.")
    full = f"{parent.name}{delimiter}{leaf}" if parent else leaf
    if full.upper() == "INBOX" or Folder.objects.filter(account=account, name=full).exists():
        raise ActionNotPossible(f"There is a folder called “{leaf}” there already.")
    return full


def _delimiter(account: MailAccount, parent: Folder | None) -> str:
    if parent is not None:
        return parent.delimiter
    known = Folder.objects.filter(account=account).exclude(delimiter="")
    return known.values_list("delimiter", flat=True).first() or "/"


@transaction.atomic
def do_create_folder(account: MailAccount, name: str, parent: Folder | None = None) -> Folder:
    full = full_name(account, name, parent)
    folder = Folder.objects.create(
        account=account,
        name=full,
        delimiter=_delimiter(account, parent),
        parent=parent,
        is_local=account.incoming_protocol == Protocol.POP3,
    )
    if not folder.is_local:
        key = folder_key(ActionKind.CREATE_FOLDER, folder.pk)
        entry = Entry(key, {"name": full}, folder_id=folder.pk)
        record(account.pk, ActionKind.CREATE_FOLDER, [entry])
    return folder


@transaction.atomic
def do_rename_folder(folder: Folder, name: str) -> Folder:
    """Renames the folder (its subfolders follow, as on an IMAP server)."""
    if folder.role:
        raise ActionNotPossible(f"“{folder.display_name}” keeps its name.")
    new = full_name(folder.account, name, folder.parent)
    old = rename_locally(folder, new)
    if not folder.is_local:
        # Not merged with an earlier rename: actions queued between the two were recorded
        # against the name in between, and replay in order.
        digest = hashlib.sha256(new.encode()).hexdigest()[:16]  # names can outgrow the key
        key = f"{folder_key(ActionKind.RENAME_FOLDER, folder.pk)}:{digest}"
        entry = Entry(key, {"old_name": old, "new_name": new}, folder_id=folder.pk)
        record(folder.account_id, ActionKind.RENAME_FOLDER, [entry])
    return folder


def rename_locally(folder: Folder, new: str) -> str:
    """Renames the row and its subfolders' rows; returns the old name."""
    old = folder.name
    for row in [folder, *_descendants(folder)]:
        row.name = new + row.name[len(old) :]
        row.save(update_fields=["name"])
    return old


def _descendants(folder: Folder) -> list[Folder]:
    if not folder.delimiter:
        return []
    prefix = folder.name + folder.delimiter
    return list(Folder.objects.filter(account_id=folder.account_id, name__startswith=prefix))


@transaction.atomic
def do_delete_folder(folder: Folder) -> None:
    """Deletes an ordinary folder without subfolders, and the messages in it."""
    if folder.role:
        raise ActionNotPossible(f"“{folder.display_name}” cannot be deleted.")
    if folder.children.exists() or _descendants(folder):
        raise ActionNotPossible("Delete or move its subfolders first.")
    if not folder.is_local and not _cancel_creation(folder):
        payload = {"name": folder.name, "delimiter": folder.delimiter, "parent": folder.parent_id}
        key = folder_key(ActionKind.DELETE_FOLDER, folder.pk)
        record(folder.account_id, ActionKind.DELETE_FOLDER, [Entry(key, payload)])
    forget(folder.locations.values_list("pk", flat=True))
    folder.delete()


def _cancel_creation(folder: Folder) -> bool:
    """A folder created here whose creation still waits never reaches the server at all."""
    waiting = PendingAction.objects.filter(
        account_id=folder.account_id, folder=folder, state=ActionState.PENDING
    )
    if not waiting.filter(kind=ActionKind.CREATE_FOLDER).exists():
        return False
    waiting.filter(kind__in=[ActionKind.CREATE_FOLDER, ActionKind.RENAME_FOLDER]).delete()
    return True
