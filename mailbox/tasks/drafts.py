"""Draft tasks: thin, ids in, safe to run twice (the copy is claimed with a conditional UPDATE
and goes only where the server lacks the newest version; removal searches by Message-ID).
They run on the default queue."""

from celery import shared_task

from mailbox.protocols.errors import MailProtocolError
from mailbox.services import draft_copy

RETRY_SECONDS = 60  # then twice as long each time
MAX_RETRIES = 5


@shared_task(name="mailbox.tasks.drafts.store_server_draft", bind=True, max_retries=MAX_RETRIES)
def store_server_draft_task(self, draft_pk: int) -> bool:  # type: ignore[no-untyped-def]
    """Puts the draft's newest version in its account's Drafts folder, replacing the older."""
    stored = draft_copy.store_server_draft(draft_pk, owner=f"task:{self.request.id}")
    if not stored and not self.request.is_eager:
        raise self.retry(countdown=RETRY_SECONDS * 2**self.request.retries)
    return stored


@shared_task(name="mailbox.tasks.drafts.remove_server_draft", bind=True, max_retries=MAX_RETRIES)
def remove_server_draft_task(self, account_pk: int, message_id: str) -> int:  # type: ignore[no-untyped-def]
    """Deletes a discarded or sent draft from the account's Drafts folder."""
    try:
        return draft_copy.remove_server_draft(account_pk, message_id)
    except MailProtocolError as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=RETRY_SECONDS * 2**self.request.retries) from exc
