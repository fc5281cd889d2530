"""The outbox as its owner sees it: each outgoing message only through the person's account."""

from django.shortcuts import get_object_or_404

from accounts.models import User
from mailbox.models import OutgoingMessage


def outgoing_for_user(user: User, outgoing_id: int) -> OutgoingMessage:
    """The person's outgoing message; another person's id answers 404 like a missing one."""
    return get_object_or_404(OutgoingMessage, pk=outgoing_id, account__user=user)
