"""Mail for the list, search and action tests, written straight through the ORM (envelopes
as a sync leaves them; no bodies needed by a list)."""

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from accounts.models import MailAccount, User
from mailbox.models import Folder, FolderRole, Message, MessageLocation, Thread
from mailbox.search import search_text
from mailbox.services.actions.local import refresh_counts
from tests.accounts.factories import make_account

BASE = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ROLES = [FolderRole.INBOX, FolderRole.ARCHIVE, FolderRole.TRASH, FolderRole.JUNK]
NAMES = {FolderRole.INBOX: "INBOX", FolderRole.ARCHIVE: "Archive"}


@dataclass
class Box:
    """An account with its usual folders, by role."""

    account: MailAccount
    folders: dict[str, Folder]

    @property
    def inbox(self) -> Folder:
        return self.folders[FolderRole.INBOX]

    @property
    def user(self) -> User:
        return self.account.user


def make_user(name: str = "alice", **fields: object) -> User:
    return User.objects.create_user(f"{name}-{secrets.token_hex(3)}", **fields)


def make_box(user: User, email: str) -> Box:
    account = make_account(user, email)
    folders = {
        role.value: Folder.objects.create(
            account=account, name=NAMES.get(role, role.label), role=role, delimiter="/"
        )
        for role in ROLES
    }
    return Box(account, folders)


def add_mail(
    folder: Folder,
    subject: str = "Hello",
    *,
    sender: tuple[str, str] = ("Ann Lee", "ann@example.test"),
    to: Sequence[tuple[str, str]] = (("Bob Smith", "bob@example.test"),),
    cc: Sequence[tuple[str, str]] = (),
    date: dt.datetime = BASE,
    body: str = "",
    seen: bool = False,
    flagged: bool = False,
    attachments: bool = False,
    thread: Thread | None = None,
) -> MessageLocation:
    people = [sender, *to, *cc]
    recipients = {"to": [list(p) for p in to]} | ({"cc": [list(p) for p in cc]} if cc else {})
    message = Message.objects.create(
        account_id=folder.account_id,
        thread=thread,
        subject=subject,
        sender_name=sender[0],
        sender_email=sender[1],
        recipients=recipients,
        date=date,
        snippet=body[:100],
        has_attachments=attachments,
        search_text=search_text(subject, *(f"{n} {e}" for n, e in people), body),
    )
    location = MessageLocation.objects.create(
        folder=folder,
        message=message,
        uid=message.pk,
        sort_date=date,
        is_seen=seen,
        is_flagged=flagged,
    )
    refresh_counts([folder.pk])  # as the sync leaves them
    return location


def add_many(folder: Folder, count: int, start: dt.datetime = BASE) -> list[MessageLocation]:
    """`count` messages, one a minute going back from `start`, in two statements."""
    messages = Message.objects.bulk_create(
        Message(
            account_id=folder.account_id,
            subject=f"Message {n}",
            sender_email=f"sender{n}@example.test",
            date=start - dt.timedelta(minutes=n),
            search_text=search_text(f"Message {n}"),
        )
        for n in range(count)
    )
    locations = MessageLocation.objects.bulk_create(
        MessageLocation(folder=folder, message=m, uid=m.pk, sort_date=m.date) for m in messages
    )
    refresh_counts([folder.pk])
    return locations
