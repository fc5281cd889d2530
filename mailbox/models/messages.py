"""Message content, stored once, apart from where it lives on the server.

- `Message` is the content: envelope fields first (so the list shows it within seconds of a
  first sync), body, text and sanitised HTML later (`body_state`). Two rows of one account are
  the same message only on a strong key: the SHA-256 of the raw bytes (or Gmail's X-GM-MSGID),
  never the Message-ID alone. The raw bytes live in a compressed file (mailbox/storage.py).
- `MessageLocation` is one (folder, UID) on the server with its flags: a move is a new location
  of the same content, not a new download; a Gmail message under several labels is one
  Message with several locations. Unique on (folder, uid), so applying a batch twice changes
  nothing.
"""

from django.db import models
from django.db.models import Q

from accounts.models import MailAccount


class Thread(models.Model):
    """A conversation: messages joined by Message-ID, In-Reply-To and References."""

    # Not indexed alone: the (account, subject_key) index serves lookups by account.
    account = models.ForeignKey(
        MailAccount, on_delete=models.CASCADE, related_name="threads", db_index=False
    )
    subject_key = models.CharField(max_length=255, blank=True)  # "Re:"/"Fwd:" stripped, lower
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "subject_key"])]

    def __str__(self) -> str:
        return self.subject_key or f"thread {self.pk}"


class BodyState(models.TextChoices):
    ENVELOPE = "envelope", "Envelope only"
    COMPLETE = "complete", "Complete"
    PARTIAL = "partial", "Stored with parse problems"


class Message(models.Model):
    # Indexes that another index's leading columns already serve are left out (here, on
    # the locations, attachments and raw blobs): each one costs every row the sync writes
    # an index insert; (account, body_state) serves lookups by account.
    account = models.ForeignKey(
        MailAccount, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    # Strong identity, once known.
    sha256 = models.CharField(max_length=64, blank=True)
    gmail_msgid = models.BigIntegerField(null=True, blank=True)
    # Envelope.
    message_id = models.CharField(max_length=998, blank=True)  # indexed in Meta: exact lookups
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.JSONField(default=list, blank=True)
    subject = models.TextField(blank=True)
    sender_name = models.CharField(max_length=300, blank=True)
    sender_email = models.CharField(max_length=320, blank=True)
    recipients = models.JSONField(default=dict, blank=True)  # {"to": [[name, email]], "cc": ...}
    date = models.DateTimeField(null=True, blank=True)  # the Date header, else INTERNALDATE
    size = models.PositiveBigIntegerField(default=0)
    # Body, filled by the bodies stage (or on first open).
    body_state = models.CharField(
        max_length=10, choices=BodyState.choices, default=BodyState.ENVELOPE
    )
    raw_path = models.CharField(max_length=255, blank=True)  # relative to MAIL_STORAGE_DIR
    snippet = models.CharField(max_length=300, blank=True)
    has_attachments = models.BooleanField(default=False)
    text = models.TextField(blank=True)
    html_blocked = models.TextField(blank=True)  # sanitised, remote resources blocked
    html_with_images = models.TextField(blank=True)  # sanitised, remote images allowed
    has_remote_images = models.BooleanField(default=False)
    sanitizer_version = models.PositiveSmallIntegerField(null=True, blank=True)
    parse_problems = models.TextField(blank=True)
    # What full-text search reads: subject, addresses and body text; on PostgreSQL as their
    # distinct words (mailbox.search.search_text; migrations 0002, 0013).
    search_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Content first: the bodies stage looks up a batch's hashes with the account
            # compared as account_id + 0 (services/sync/bodies.py), so that a fresh install's
            # statistics cannot send it through the account's other index.
            models.UniqueConstraint(
                fields=["sha256", "account"], condition=~Q(sha256=""), name="content_once_by_hash"
            ),
            models.UniqueConstraint(
                fields=["account", "gmail_msgid"],
                condition=Q(gmail_msgid__isnull=False),
                name="content_once_by_gmail_id",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "body_state"]),
            # A plain index: PostgreSQL's db_index=True adds a second one for LIKE, unused.
            models.Index(fields=["message_id"], name="message_by_message_id"),
            # Replies stored before their parent, found when it arrives (services/sync/threads).
            models.Index(
                fields=["in_reply_to"], condition=~Q(in_reply_to=""), name="message_in_reply_to"
            ),
        ]

    def __str__(self) -> str:
        return self.subject or "(no subject)"


class MessageLocation(models.Model):
    # Lookups by folder use the indexes in Meta, which all begin with it.
    folder = models.ForeignKey(
        "mailbox.Folder", on_delete=models.CASCADE, related_name="locations", db_index=False
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="locations")
    uid = models.BigIntegerField()  # 0 for local folders (POP3), which have no server UIDs
    modseq = models.BigIntegerField(null=True, blank=True)
    is_seen = models.BooleanField(default=False)
    is_flagged = models.BooleanField(default=False)
    is_answered = models.BooleanField(default=False)
    is_draft = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    keywords = models.JSONField(default=list, blank=True)
    # Copied from the message so that the list's keyset pagination is one index range scan.
    sort_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["folder", "uid"], condition=Q(uid__gt=0), name="one_location_per_uid"
            ),
        ]
        indexes = [
            models.Index(fields=["folder", "-sort_date", "-id"], name="location_list_order"),
            models.Index(fields=["folder", "is_seen"], name="location_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.folder_id}/{self.uid}"


class Attachment(models.Model):
    """An attachment's description; its bytes stay inside the raw message (found by part id)."""

    # Lookups by message use the (message, part_id) constraint's index.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", db_index=False
    )
    part_id = models.CharField(max_length=100)  # IMAP section number, e.g. "2" or "1.3"
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True)
    is_inline = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "part_id"], name="one_attachment_per_part")
        ]

    def __str__(self) -> str:
        return self.filename or self.part_id
