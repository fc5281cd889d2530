"""The people a person has exchanged mail with, for the address suggestions in compose.

- `Correspondent` is one address per user (lowercased), with the latest name seen, how many
  messages went each way and when the last one did. Rows come from the local store in sets
  (mailbox/services/correspondents.py reads each account's new Message rows after a sync)
  and from every message the person queues (its To, Cc and Bcc), never per keystroke.
- `CorrespondentWord` holds each row's searchable words (name words and the address, folded:
  lowercased, accents removed), so a suggestion is an index range scan on (user, word prefix)
  rather than a scan of all of a person's correspondents (see the report in the service).
- `CorrespondentCursor` is how far an account's messages have been read: every Message of the
  account with an id up to `last_message_id` is counted. Moving it is a conditional UPDATE in
  the same transaction as the counts, so a refresh run twice counts a message once.
"""

from django.conf import settings
from django.db import models

from accounts.models import MailAccount


class Correspondent(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="correspondents"
    )
    address = models.CharField(max_length=320)  # lowercased
    name = models.CharField(max_length=300, blank=True)  # the latest non-empty one seen
    written_count = models.PositiveIntegerField(default=0)  # messages the person sent them
    received_count = models.PositiveIntegerField(default=0)  # messages they sent the person
    last_at = models.DateTimeField(null=True, blank=True)  # the latest message either way

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "address"], name="one_correspondent_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


class CorrespondentWord(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    correspondent = models.ForeignKey(Correspondent, on_delete=models.CASCADE, related_name="words")
    word = models.CharField(max_length=320)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["correspondent", "word"], name="one_word_per_correspondent"
            )
        ]
        indexes = [
            # PostgreSQL: the pattern operator class lets LIKE 'prefix%' use the index whatever
            # the database's collation; SQLite ignores it and gets a plain (BINARY) index, which
            # the service queries with a range instead.
            models.Index(
                fields=["user", "word"],
                name="correspondent_word_prefix",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.word


class CorrespondentCursor(models.Model):
    account = models.OneToOneField(
        MailAccount, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_message_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.account_id} up to message {self.last_message_id}"
