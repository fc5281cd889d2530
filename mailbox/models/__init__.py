"""The local store of each account's mail. See docs/architecture.md for the sync and outbox
state machines; each module's docstring states the invariant its rows keep."""

from mailbox.models.actions import PendingAction
from mailbox.models.folders import Folder, FolderRole
from mailbox.models.messages import Attachment, Message, MessageLocation, Thread
from mailbox.models.outbox import OutgoingMessage, OutgoingState, SentCopyState
from mailbox.models.pop3 import Pop3Uidl
from mailbox.models.raw import RawBlob
from mailbox.models.senders import TrustedSender

__all__ = [
    "Attachment",
    "Folder",
    "FolderRole",
    "Message",
    "MessageLocation",
    "OutgoingMessage",
    "OutgoingState",
    "PendingAction",
    "Pop3Uidl",
    "RawBlob",
    "SentCopyState",
    "Thread",
    "TrustedSender",
]
