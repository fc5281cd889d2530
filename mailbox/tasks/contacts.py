"""Correspondents for the address suggestions: counted from an account's new messages after
a sync stored some (mailbox/tasks/sync.py enqueues it). Safe to run twice: the account's
cursor is claimed with a conditional UPDATE (mailbox/services/correspondents.py)."""

from celery import shared_task

from accounts.models import MailAccount
from mailbox.services.correspondents import refresh_from_messages


@shared_task(name="mailbox.tasks.contacts.refresh_correspondents")
def refresh_correspondents(account_id: int) -> int:
    try:
        return refresh_from_messages(account_id)
    except MailAccount.DoesNotExist:  # removed since the sync
        return 0
