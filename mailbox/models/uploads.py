"""Files attached on the compose page before Send: one row per staged file.

A file is uploaded on its own request as soon as the person picks or drops it (with a progress
bar), so Send only names the page's Message-ID: `outgoing_draft()` takes every staged file of
(user, message_id). Forward stages the original's attachments, and Undo stages those of the
message taken back, the same way (mailbox/services/uploads.py).

Where the bytes are: a file of its own, `MAIL_STORAGE_DIR/uploads/<user id>/<random name>`,
not mailbox/storage.py. That module stores content by hash per account and shares it (the
same bytes twice are one file, possibly a synced message's raw), so removing an upload could
remove somebody else's bytes; its gzip or zstd would also spend time on files that are
mostly compressed already, and the database rows it uses for small content would take up to
MAIL_MAX_UPLOAD_MB of a person's files into every backup. A file here belongs to one row
only and goes with it. Rows are removed when the message is queued (its raw then holds the
files), by Remove, and after STALE_AFTER for pages left open and forgotten (`created_at`).
"""

from django.conf import settings
from django.db import models


class ComposeUpload(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=255)  # "<id@host>", the compose page's
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()  # bytes, as uploaded (before base64)
    path = models.CharField(max_length=255)  # relative to MAIL_STORAGE_DIR
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["pk"]
        # By Message-ID alone: it is all but unique, and it also finds another person's use.
        indexes = [models.Index(fields=["message_id"], name="upload_by_message")]

    def __str__(self) -> str:
        return self.filename
