"""Outbox tasks: thin, ids in, safe to run twice (a message is claimed with a conditional
UPDATE before anything goes, so a redelivered task finds it taken or sent and does nothing)."""

from celery import shared_task

from mailbox.services import outbox, sent_copy


@shared_task(name="mailbox.tasks.send.send_due", bind=True)
def send_due(self) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Beat's sweep: settles dead workers' messages, sends the due ones one by one (each with
    its Sent copy), then stores the Sent copies a dead worker or a failed APPEND left."""
    owner = f"task:{self.request.id}"
    unknown = outbox.expire_leases()
    sent = 0
    for message_pk in outbox.claim_due(owner):
        outbox.send_claimed(message_pk, owner)
        sent += 1
    copies = sent_copy.store_due_copies(owner)
    return {"expired": unknown, "sent": sent, "copies": copies}


@shared_task(name="mailbox.tasks.send.send_message", bind=True)
def send_message_task(self, message_pk: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Sends one message now if it is due and free (the compose view's fast path)."""
    outcome = outbox.send_message(message_pk, owner=f"task:{self.request.id}")
    return {"message": message_pk, "state": outcome.state, "detail": outcome.detail}
