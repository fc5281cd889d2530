"""Celery tasks: thin wrappers that take ids, call one service and decide about retries.

Tasks are routed by module: `mailbox.tasks.send.*` to the send queue, `mailbox.tasks.sync.*` to
the sync queue, everything else to the default queue (see webmail/celery.py).
"""

from mailbox.tasks.actions import replay_actions, replay_due_actions
from mailbox.tasks.contacts import refresh_correspondents
from mailbox.tasks.drafts import remove_server_draft_task, store_server_draft_task
from mailbox.tasks.health import ping
from mailbox.tasks.send import send_due, send_message_task
from mailbox.tasks.sync import sync_account_task, sync_due_accounts, sync_folder_task

__all__ = [
    "ping",
    "refresh_correspondents",
    "remove_server_draft_task",
    "replay_actions",
    "replay_due_actions",
    "send_due",
    "send_message_task",
    "store_server_draft_task",
    "sync_account_task",
    "sync_due_accounts",
    "sync_folder_task",
]
