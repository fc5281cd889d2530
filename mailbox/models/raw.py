"""Raw messages small enough to live in the database (see mailbox/storage.py for why)."""

from django.db import models

from accounts.models import MailAccount


class RawBlob(models.Model):
    """One message's raw bytes, zstd-compressed, keyed like its content: (account, SHA-256)."""

    # Lookups by account use the (account, sha256) constraint's index.
    account = models.ForeignKey(
        MailAccount, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    size = models.PositiveIntegerField()  # uncompressed

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "sha256"], name="one_blob_per_content")
        ]

    def __str__(self) -> str:
        return self.sha256
