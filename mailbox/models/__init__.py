"""The local store of each account's mail. See docs/architecture.md for the sync and outbox
state machines; each module's docstring states the invariant its rows keep."""

from mailbox.models.actions import PendingAction
from mailbox.models.contacts import Correspondent, CorrespondentCursor, CorrespondentWord
from mailbox.models.drafts import Draft
from mailbox.models.folders import Folder, FolderRole
from mailbox.models.messages import Attachment, Message, MessageLocation, Thread
from mailbox.models.outbox import OutgoingMessage, OutgoingState, SentCopyState
from mailbox.models.pop3 import Pop3Uidl
from mailbox.models.raw import RawBlob
from mailbox.models.responses import SavedResponse
from mailbox.models.senders import TrustedSender
from mailbox.models.uploads import ComposeUpload

__all__ = [
    "Attachment",
    "ComposeUpload",
    "Correspondent",
    "CorrespondentCursor",
    "CorrespondentWord",
    "Draft",
    "Folder",
    "FolderRole",
    "Message",
    "MessageLocation",
    "OutgoingMessage",
    "OutgoingState",
    "PendingAction",
    "Pop3Uidl",
    "RawBlob",
    "SavedResponse",
    "SentCopyState",
    "Thread",
    "TrustedSender",
]
