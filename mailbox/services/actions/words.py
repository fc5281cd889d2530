"""What the person reads about an action the server refused or that waits for another try."""

from accounts.models import MailAccount
from accounts.services.connection import describe
from accounts.services.mail_accounts import AccountSettings
from mailbox.models.actions import ActionKind
from mailbox.protocols import errors
from mailbox.services.actions.plan import Blocked

WHAT = {
    ActionKind.SET_FLAGS: "Marking the message",
    ActionKind.MOVE: "Moving the message",
    ActionKind.DELETE: "Deleting the message",
    ActionKind.CREATE_FOLDER: "Creating the folder",
    ActionKind.RENAME_FOLDER: "Renaming the folder",
    ActionKind.DELETE_FOLDER: "Deleting the folder",
}
BLOCKED = {
    Blocked.NOT_ON_SERVER: "the message is not (or no longer) on the server",
    Blocked.NO_TARGET: "the folder it was going to no longer exists",
}


def refused(kind: ActionKind, exc: errors.MailProtocolError) -> str:
    match exc:
        case errors.FolderMissing():
            reason = f"the folder “{exc.folder}” does not exist on the server"
        case errors.MessageMissing():
            reason = BLOCKED[Blocked.NOT_ON_SERVER]
        case errors.ActionRefused() if exc.server_reply:
            reason = f"the server refused it (“{exc.server_reply}”)"
        case _:
            reason = "the server refused it"
    return _sentence(kind, reason)


def blocked(kind: ActionKind, why: Blocked) -> str:
    return _sentence(kind, BLOCKED[why])


def _sentence(kind: ActionKind, reason: str) -> str:
    return f"{WHAT[kind]} did not work: {reason}. It is back as it was."


def waiting(account: MailAccount, exc: errors.MailProtocolError) -> str:
    problem = describe("incoming", exc, AccountSettings.of(account)).message
    return f"Not on the server yet, trying again soon. {problem}"
