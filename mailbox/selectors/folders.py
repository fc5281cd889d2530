"""The sidebar: a person's accounts, each with its folder tree and unread counts.

Three queries whatever the number of folders (accounts, folders, the Outbox link's count); the
lists reuse the result to find their folders (the unified inbox, `in:` in a search, the move
menu) without asking the database again.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from accounts.models import MailAccount, User
from mailbox.models import Folder, FolderRole
from mailbox.selectors.outbox import outbox_count

# Special-use folders first, in the order mail programs show them; then the rest by name.
ROLE_ORDER = [
    FolderRole.INBOX,
    FolderRole.DRAFTS,
    FolderRole.SENT,
    FolderRole.ARCHIVE,
    FolderRole.JUNK,
    FolderRole.TRASH,
    FolderRole.ALL,
    FolderRole.FLAGGED,
]
RANK = {role.value: rank for rank, role in enumerate(ROLE_ORDER)}
FOLDER_FIELDS = [
    "account_id",
    "name",
    "delimiter",
    "parent_id",
    "role",
    "unread_count",
    "is_selectable",
    "is_local",
]
MARKER_COLOURS = 6  # static/mail.css has .account-0 … .account-5
# What `in:` understands besides folder names ("spam" is what people call Junk).
ROLE_WORDS = {role.value: role.value for role in ROLE_ORDER} | {"spam": FolderRole.JUNK.value}


@dataclass
class FolderItem:
    id: int
    account_id: int
    name: str  # the server's full name
    label: str  # what the tree shows: the last part of the name
    role: str
    unread: int
    is_selectable: bool
    is_local: bool  # POP3 accounts' folders: nothing on a server to sync
    children: list["FolderItem"] = field(default_factory=list)


@dataclass
class AccountItem:
    id: int
    email: str
    name: str
    marker: str  # one letter, drawn in the account's colour
    colour: int  # 0 … MARKER_COLOURS - 1
    folders: list[FolderItem] = field(default_factory=list)  # the tree's top level
    all_folders: list[FolderItem] = field(default_factory=list)  # the tree in display order


@dataclass
class Sidebar:
    accounts: list[AccountItem]
    outbox: int = 0  # outgoing messages on their way or needing the person (the Outbox link)

    @property
    def folders(self) -> list[FolderItem]:
        return [folder for account in self.accounts for folder in account.all_folders]

    @property
    def inboxes(self) -> list[FolderItem]:
        return [f for f in self.folders if f.role == FolderRole.INBOX and f.is_selectable]

    @property
    def unified_unread(self) -> int:
        return sum(folder.unread for folder in self.inboxes)

    def folder(self, folder_id: int) -> FolderItem | None:
        return next((f for f in self.folders if f.id == folder_id), None)

    def account(self, account_id: int) -> AccountItem | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def named(self, name: str) -> list[FolderItem]:
        """Folders a search's `in:` means: by role word, full name or last part, any case."""
        wanted = name.casefold()
        role = ROLE_WORDS.get(wanted)
        return [
            f
            for f in self.folders
            if f.is_selectable
            and ((role and f.role == role) or wanted in (f.name.casefold(), f.label.casefold()))
        ]


def sidebar(user: User) -> Sidebar:
    accounts = list(
        MailAccount.objects.filter(user=user).order_by("email", "pk").only("email", "display_name")
    )
    rows = Folder.objects.filter(account__user=user).only(*FOLDER_FIELDS)
    by_account: dict[int, list[Folder]] = {}
    for row in rows:
        by_account.setdefault(row.account_id, []).append(row)
    items = [_account(a, n, by_account.get(a.pk, [])) for n, a in enumerate(accounts)]
    return Sidebar(items, outbox=outbox_count(user) if accounts else 0)


def _account(account: MailAccount, position: int, rows: list[Folder]) -> AccountItem:
    item = AccountItem(
        id=account.pk,
        email=account.email,
        name=account.display_name,
        # The domain's initial: one person's accounts often share a name, rarely a domain.
        marker=(account.email.rpartition("@")[2] or account.email)[:1].upper(),
        colour=position % MARKER_COLOURS,
    )
    item.folders = _tree(rows)
    item.all_folders = list(_walk(item.folders))
    return item


def _tree(rows: list[Folder]) -> list[FolderItem]:
    items = {row.pk: _item(row) for row in rows}
    roots: list[FolderItem] = []
    for row in rows:
        parent = items.get(row.parent_id) if row.parent_id not in (None, row.pk) else None
        (parent.children if parent else roots).append(items[row.pk])
    _sort(roots)
    return roots


def _item(row: Folder) -> FolderItem:
    return FolderItem(
        id=row.pk,
        account_id=row.account_id,
        name=row.name,
        label=row.display_name,
        role=row.role,
        unread=row.unread_count,
        is_selectable=row.is_selectable,
        is_local=row.is_local,
    )


def _sort(items: list[FolderItem]) -> None:
    items.sort(key=lambda f: (RANK.get(f.role, len(RANK)), f.label.casefold(), f.name))
    for item in items:
        _sort(item.children)


def _walk(items: list[FolderItem]) -> Iterator[FolderItem]:
    for item in items:
        yield item
        yield from _walk(item.children)
