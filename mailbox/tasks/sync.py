"""Sync tasks: thin, ids in, safe to run twice (the account lease makes a twin a no-op)."""

from celery import shared_task
from celery.utils.log import get_task_logger

from mailbox.models import Folder
from mailbox.services import lease
from mailbox.services.sync import AccountBusy, sync_account, sync_folder_now
from mailbox.tasks.contacts import refresh_correspondents

logger = get_task_logger(__name__)


@shared_task(name="mailbox.tasks.sync.sync_due_accounts")
def sync_due_accounts() -> int:
    """Beat's fan-out: one sync task per account whose poll is due."""
    account_ids = lease.take_due()
    for account_id in account_ids:
        sync_account_task.delay(account_id)
    return len(account_ids)


@shared_task(name="mailbox.tasks.sync.sync_account", bind=True)
def sync_account_task(self, account_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    try:
        report = sync_account(account_id, owner=f"task:{self.request.id}")
    except AccountBusy:
        return {"account_id": account_id, "busy": True}
    if report.new:  # count the new messages' people for the address suggestions
        refresh_correspondents.delay(account_id)
    return report.as_json()


@shared_task(name="mailbox.tasks.sync.sync_folder", bind=True)
def sync_folder_task(self, folder_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A person opened this folder: bring it up to date now (envelopes first)."""
    try:
        result = sync_folder_now(folder_id, owner=f"task:{self.request.id}")
    except AccountBusy:
        return {"folder_id": folder_id, "busy": True}
    if result.get("new"):
        refresh_correspondents.delay(Folder.objects.get(pk=folder_id).account_id)
    return result
