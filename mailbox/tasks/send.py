"""Outbox tasks: thin, ids in, safe to run twice (a message is claimed with a conditional
UPDATE before anything goes, so a redelivered task finds it taken or sent and does nothing)."""

from celery import shared_task

from mailbox.models import OutgoingState
from mailbox.services import outbox, sent_copy


@shared_task(name="mailbox.tasks.send.send_due", bind=True)
def send_due(self) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Beat's sweep: settles dead workers' messages, sends the due ones (each account's over
    one SMTP session, then their Sent copies), then stores the Sent copies a dead worker or a
    failed APPEND left."""
    owner = f"task:{self.request.id}"
    unknown = outbox.expire_leases()
    outcomes = outbox.send_batch(outbox.claim_due(owner), owner)
    copies = sent_copy.store_due_copies(owner)
    sent = sum(1 for outcome in outcomes if outcome.state == OutgoingState.SENT)
    return {"expired": unknown, "tried": len(outcomes), "sent": sent, "copies": copies}


@shared_task(name="mailbox.tasks.send.send_message", bind=True)
def send_message_task(self, message_pk: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Sends one message now if it is due and free (the compose view's fast path)."""
    outcome = outbox.send_message(message_pk, owner=f"task:{self.request.id}")
    return {"message": message_pk, "state": outcome.state, "detail": outcome.detail}
