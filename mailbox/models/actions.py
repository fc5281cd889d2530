"""Local changes waiting to be replayed on the server.

A person's action (read, flag, move, delete, ...) updates the store at once and appends a
PendingAction in the same transaction; a task replays it idempotently and marks it done, or,
when the server refuses, puts the local state back and records why. A sync never overwrites
a flag of a location that still has a pending action (sync-engine's rule), so a change made
here is never undone by a sync that was already running.
"""

from django.db import models
from django.db.models import Q

from accounts.models import MailAccount


class ActionKind(models.TextChoices):
    SET_FLAGS = "set_flags", "Change flags"
    MOVE = "move", "Move"
    DELETE = "delete", "Delete permanently"
    APPEND = "append", "Upload"
    CREATE_FOLDER = "create_folder", "Create folder"
    RENAME_FOLDER = "rename_folder", "Rename folder"
    DELETE_FOLDER = "delete_folder", "Delete folder"
    MARK_ALL_READ = "mark_all_read", "Mark folder read"
    EMPTY_FOLDER = "empty_folder", "Empty folder"


class ActionState(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Being applied"
    DONE = "done", "Applied"
    FAILED = "failed", "Refused by the server"


class PendingAction(models.Model):
    account = models.ForeignKey(
        MailAccount, on_delete=models.CASCADE, related_name="pending_actions"
    )
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    location = models.ForeignKey(
        "mailbox.MessageLocation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pending_actions",
    )
    folder = models.ForeignKey(
        "mailbox.Folder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    # The same action twice while the first still waits is one action (see the constraint).
    dedupe_key = models.CharField(max_length=200)
    state = models.CharField(
        max_length=10, choices=ActionState.choices, default=ActionState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "dedupe_key"],
                condition=Q(state="pending"),
                name="one_waiting_action_per_key",
            ),
        ]
        indexes = [models.Index(fields=["account", "state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"
