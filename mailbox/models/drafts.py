"""Drafts: what a person is writing, saved as they type, here and on the server.

One row per (user, Message-ID of the compose page): every save overwrites the values as the
form posted them (addresses may be unfinished) and raises `version`. The server copy lags
behind: a task builds the newest version as a message, APPENDs it to the account's Drafts
folder and removes the older copy (mailbox/services/draft_copy.py), then records which
version the server holds in `server_version`:

    version > server_version ──claim (claimed_until)──▶ APPEND newest, delete older
          ▲                                                  │
          └── saved again meanwhile: the same worker goes on ◀┘ record server_version

The claim is a conditional UPDATE on `claimed_until` (free or expired), so two workers never
append at once; a task for a version the server already holds does nothing. Discarding or
sending deletes the row; a worker that finds its row gone removes what it appended.
POP3 accounts keep their drafts here only (server_version stays 0).
"""

from django.conf import settings
from django.db import models

from accounts.models import Identity, MailAccount


class Draft(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=255)  # "<id@host>", the compose page's
    identity = models.ForeignKey(
        Identity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The compose form's values as typed (the thread ids as space-separated "<id@host>").
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    bcc = models.TextField(blank=True)
    subject = models.TextField(blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    in_reply_to = models.TextField(blank=True)
    references = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)  # raised by every save
    saved_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Where the server copy is, and which version it holds (0: none yet).
    server_account = models.ForeignKey(
        MailAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    server_folder = models.CharField(max_length=1000, blank=True)
    server_uid = models.BigIntegerField(null=True, blank=True)  # None: the server did not say
    server_version = models.PositiveIntegerField(default=0)
    server_error = models.TextField(blank=True)  # the last failed attempt's reason
    # The lease of the worker storing the server copy.
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-saved_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "message_id"], name="one_draft_per_message_id")
        ]

    def __str__(self) -> str:
        return f"{self.message_id} (version {self.version})"
