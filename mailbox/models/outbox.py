"""The outbox: each message a person sent, until the SMTP server has taken it (or refused it).

State machine (every arrow is a conditional UPDATE on the row's current state, so two workers
never both move a message; each is its own short transaction, never held across network I/O):

    queued ──claim──▶ claimed ──▶ sending ──▶ dot_sent ──250──▶ sent
      ▲                  │           │            │
      │                  └─ expired lease: claimed again (nothing reached the end of data)
      │                              │            └─ expired lease ▶ unknown
      └── temporary failure ◀────────┴─ (4xx, connection lost before the end of data),
          next_attempt_at grows until MAIL_SEND_RETRY_FOR_HOURS after send_at ▶ failed

- queued: waits for next_attempt_at (first send_at: the undo window or the scheduled time).
- claimed: a worker took it (state=queued and due, or claimed/sending with an expired lease);
  claimed_by/claimed_until are its lease.
- sending: written before MAIL FROM; the message may be on its way but cannot have been
  taken: the server only takes it at the end of data.
- dot_sent: written just before the final dot goes out; if the worker stops here the server
  may have the message, so an expired lease makes it `unknown`, never a resend.
- sent: the server answered 250 to the end of data (last_error lists recipients it refused
  while it took the others).
- failed: a permanent refusal (5xx), or temporary ones until the retry period was over;
  last_error holds the server's words.
- unknown: the connection broke after the end of data went out, before the reply. Shown to
  the person; never sent again on its own.
- cancelled: taken back by the person while still queued and not yet due (undo, a scheduled
  message withdrawn), or once failed ("Edit and send again"); the row keeps the message, and
  queuing the same Message-ID again revives it (mailbox/services/outbox.py do_cancel,
  do_queue_message).

The person's own arrows (the Outbox page, mailbox/views/outbox.py): queued (not yet due) or
failed ▶ cancelled; unknown ▶ sent ("It arrived": the Sent copy follows); unknown ▶ queued
("Send again", due now, a new retry period).

Once `sent`, the copy for the Sent folder has its own small machine in sent_copy_state
(mailbox/services/sent_copy.py), leased with the same claimed_by/claimed_until, which `sent`
no longer needs:

    pending ──claim──▶ appending ──APPEND──▶ appended
       ▲                   │  └── the provider keeps it (Gmail) ▶ skipped
       └─ network error ◀──┤  (after SENT_COPY_ATTEMPTS tries ▶ failed)
          expired lease ◀──┘  (worker died: claimed again)

A claim after the first (sent_copy_attempts > 1) searches the Sent folder for the Message-ID
before appending: found → appended, so a worker that died between the APPEND and its record
never leads to a second copy. A POP3 account's Sent folder is local: there `appending ▶
appended` is one transaction with the stored copy (mailbox/services/sent_copy_local.py).
"""

from django.db import models

from accounts.models import MailAccount


class OutgoingState(models.TextChoices):
    QUEUED = "queued"
    CLAIMED = "claimed"
    SENDING = "sending"
    DOT_SENT = "dot_sent"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


class SentCopyState(models.TextChoices):
    """Where the Sent folder's copy of a `sent` message is (see mailbox/services/sent_copy.py)."""

    PENDING = "pending"  # not stored yet (or the last try failed: sent_copy_attempts says)
    APPENDING = "appending"  # a worker holds it (claimed_by/claimed_until) and may be appending
    APPENDED = "appended"  # the Sent folder has it
    SKIPPED = "skipped"  # the provider keeps sent mail itself (Gmail)
    FAILED = "failed"  # given up after SENT_COPY_ATTEMPTS tries; sent_copy_error says why


class OutgoingMessage(models.Model):
    account = models.ForeignKey(
        MailAccount, on_delete=models.CASCADE, related_name="outgoing_messages"
    )
    message_id = models.CharField(max_length=255)  # "<id@host>", chosen at compose time
    subject = models.CharField(max_length=255, blank=True)  # what the outbox page lists
    raw = models.BinaryField()  # the bytes given to SMTP (no Bcc header)
    sent_copy = models.BinaryField()  # the bytes for the Sent folder (with Bcc)
    envelope_from = models.CharField(max_length=320)
    envelope_to = models.JSONField(default=list)
    state = models.CharField(
        max_length=10, choices=OutgoingState.choices, default=OutgoingState.QUEUED
    )
    send_at = models.DateTimeField()  # end of the undo window, or the scheduled time
    attempts = models.PositiveIntegerField(default=0)  # times it went past MAIL FROM
    next_attempt_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # the server's words
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_copy_state = models.CharField(
        max_length=10, choices=SentCopyState.choices, default=SentCopyState.PENDING
    )
    sent_copy_attempts = models.PositiveIntegerField(default=0)  # claims for the Sent copy
    sent_copy_at = models.DateTimeField(null=True, blank=True)  # when it was stored (or found)
    sent_copy_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["next_attempt_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "message_id"], name="one_outgoing_per_message_id"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outgoing_due"),
            models.Index(
                fields=["state", "sent_copy_state"],
                name="outgoing_copy_due",
                condition=models.Q(sent_copy_state__in=("pending", "appending")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.state})"
