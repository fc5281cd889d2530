"""The server copy of a draft: the newest version in the account's Drafts folder, once.

The states are in mailbox/models/drafts.py. `store_server_draft` claims the row (a lease on
`claimed_until`, a conditional UPDATE), so one worker at a time appends; it goes on while the
row has a version the server lacks, so a task that lost the claim to a busy worker can simply
stop: that worker appends the newest version before it lets go. Each pass searches the Drafts
folder for the Message-ID before the APPEND and deletes what it found after it: the older
version, and any copy a worker that died before recording left behind. A row deleted meanwhile
(discarded, sent) makes the worker remove what it appended. Network I/O runs outside any
transaction; never call these inside `transaction.atomic()`.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import MailAccount
from mailbox.models import Draft, FolderRole
from mailbox.protocols.errors import MailProtocolError
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_actions import DRAFT, SEEN, append, delete_permanently, find_message_id
from mailbox.protocols.mime_build import DraftError, build_message
from mailbox.protocols.types import Protocol
from mailbox.services import compose
from mailbox.services.connections import imap_session
from mailbox.services.role_folders import folder_for_role

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)  # longer than one APPEND takes
NEW_DRAFTS_FOLDER = "Drafts"  # created when the server has no folder with the Drafts role


@dataclass(frozen=True)
class Stored:
    account: MailAccount | None  # None: the draft has no server copy (POP3, no identity)
    folder: str = ""
    uid: int | None = None


def store_server_draft(draft_pk: int, owner: str) -> bool:
    """Brings the server copy up to the draft's newest version. False when a server refused
    or could not be reached (worth retrying later); True otherwise, also when there was
    nothing to do or another worker has it."""
    while _claim(draft_pk, owner):
        draft = Draft.objects.select_related("user", "identity__account", "server_account").get(
            pk=draft_pk
        )
        try:
            stored = _store(draft)
        except (MailProtocolError, DraftError) as exc:
            logger.warning("Server copy of draft %s not stored: %s", draft_pk, exc)
            Draft.objects.filter(pk=draft_pk, claimed_by=owner).update(
                server_error=str(exc), claimed_by="", claimed_until=None
            )
            return False
        if not _record(draft, owner, stored):
            return True
    return True


def _claim(draft_pk: int, owner: str) -> bool:
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    taken = Draft.objects.filter(free, pk=draft_pk, version__gt=F("server_version")).update(
        claimed_by=owner, claimed_until=now + LEASE
    )
    return taken == 1


def _store(draft: Draft) -> Stored:
    """APPENDs this version where its identity's account keeps drafts, deletes the older one,
    and removes the copy from the account that held it before, if it changed."""
    account = draft.identity.account if draft.identity else None
    stored = Stored(None)
    if account is not None and account.incoming_protocol == Protocol.IMAP:
        raw = draft_bytes(draft)
        with imap_session(account) as client:
            folder = drafts_folder(account, client)
            older = find_message_id(client, folder, draft.message_id)
            uid = append(client, folder, raw, [DRAFT, SEEN])
            if older:
                delete_permanently(client, older)  # find_message_id selected the folder
        stored = Stored(account, folder, uid)
    previous = draft.server_account
    if previous is not None and previous != stored.account:
        remove_copies(previous, draft.message_id)
    return stored


def _record(draft: Draft, owner: str, stored: Stored) -> bool:
    """Notes the version the server now holds; False if the row went meanwhile (then the copy
    just appended goes too) or another worker took it over."""
    updated = Draft.objects.filter(pk=draft.pk, claimed_by=owner).update(
        server_account=stored.account,
        server_folder=stored.folder,
        server_uid=stored.uid,
        server_version=draft.version,
        server_error="",
        claimed_by="",
        claimed_until=None,
    )
    if updated:
        return True
    if stored.account is not None and not Draft.objects.filter(pk=draft.pk).exists():
        try:
            remove_copies(stored.account, draft.message_id)
        except MailProtocolError as exc:  # left in the Drafts folder, where the person sees it
            logger.warning("Copy of discarded draft %s not removed: %s", draft.pk, exc)
    return False


def draft_bytes(draft: Draft) -> bytes:
    """The draft as a message (with its Bcc, as the Sent copy keeps it). A field that would
    not make a valid message yet (an unfinished address) is left out of the server copy."""
    values: dict[str, Any] = {
        "identity": draft.identity,
        "to": draft.to,
        "cc": draft.cc,
        "bcc": draft.bcc,
        "subject": draft.subject,
        "text": draft.text,
        "html": draft.html,
        "rich": bool(draft.html),  # the "Rich text" switch was on when it was saved
        "message_id": draft.message_id,
        "in_reply_to": tuple(draft.in_reply_to.split()),
        "references": tuple(draft.references.split()),
        "attachments": [],
        "send_at": None,
    }
    while True:
        try:
            message = compose.outgoing_draft(draft.user, values)
            built = build_message(
                message,
                allow_private_hosts=settings.MAIL_ALLOW_PRIVATE_HOSTS,
                require_recipients=False,
            )
        except DraftError as error:
            field = compose.field_of(error)
            if field not in ("to", "cc", "bcc", "subject") or not values[field]:
                raise
            values[field] = ""
        else:
            return built.sent_copy


def remove_server_draft(account_pk: int, message_id: str) -> int:
    """Deletes the draft `message_id` from the account's Drafts folder, unless the person has
    that draft open again (its own copy task replaces the old one). Returns how many went."""
    account = MailAccount.objects.filter(pk=account_pk).first()
    if account is None or account.incoming_protocol != Protocol.IMAP:
        return 0
    if Draft.objects.filter(user_id=account.user_id, message_id=message_id).exists():
        return 0
    return remove_copies(account, message_id)


def remove_copies(account: MailAccount, message_id: str) -> int:
    """Deletes every message with this Message-ID from the account's Drafts folder."""
    with imap_session(account) as client:
        folder = drafts_folder(account, client)
        found = find_message_id(client, folder, message_id)
        if found:
            delete_permanently(client, found)
    return len(found)


def drafts_folder(account: MailAccount, client: ImapClient) -> str:
    return folder_for_role(account, client, FolderRole.DRAFTS, NEW_DRAFTS_FOLDER)
