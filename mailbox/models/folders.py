"""Folders and the server cursor of their sync.

Invariant of a synced IMAP folder: under `uidvalidity`, every message with a UID below
`uidnext` is in the local store (as a MessageLocation, at least its envelope), and when
`highestmodseq` is set, every flag change up to that mod-sequence is applied locally. A change
of UIDVALIDITY voids the cursor: the folder's locations are forgotten and it syncs again.
"""

from django.db import models

from accounts.models import MailAccount


class FolderRole(models.TextChoices):
    INBOX = "inbox", "Inbox"
    SENT = "sent", "Sent"
    DRAFTS = "drafts", "Drafts"
    TRASH = "trash", "Trash"
    JUNK = "junk", "Junk"
    ARCHIVE = "archive", "Archive"
    ALL = "all", "All mail"
    FLAGGED = "flagged", "Flagged"
    NONE = "", "Folder"


class SyncState(models.TextChoices):
    NEW = "new", "Not synced yet"
    ENVELOPES = "envelopes", "Listing messages"
    BODIES = "bodies", "Downloading messages"
    SYNCED = "synced", "Up to date"
    FAILED = "failed", "Failed"


class Folder(models.Model):
    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=1000)  # the server's name, decoded from modified UTF-7
    delimiter = models.CharField(max_length=4, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    role = models.CharField(max_length=10, choices=FolderRole.choices, blank=True)
    is_selectable = models.BooleanField(default=True)
    # POP3 accounts keep Sent, Drafts, Trash, Junk and Archive here only.
    is_local = models.BooleanField(default=False)

    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uidnext = models.BigIntegerField(null=True, blank=True)
    highestmodseq = models.BigIntegerField(null=True, blank=True)
    sync_state = models.CharField(max_length=10, choices=SyncState.choices, default=SyncState.NEW)
    # Progress for the person and the admin: how many envelopes/bodies are in, of how many.
    messages_on_server = models.PositiveIntegerField(default=0)
    bodies_pending = models.PositiveIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)
    unread_count = models.PositiveIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["account", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="one_folder_per_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The last part of the path, as people see it in a tree."""
        if self.role == FolderRole.INBOX:
            return "Inbox"
        return self.name.rsplit(self.delimiter, 1)[-1] if self.delimiter else self.name

    def forget_cursor(self) -> None:
        """UIDVALIDITY changed: nothing known about UIDs holds any more."""
        self.uidvalidity = self.uidnext = self.highestmodseq = None
        self.sync_state = SyncState.NEW
