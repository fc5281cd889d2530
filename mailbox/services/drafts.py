"""Drafts here: saving what the person typed (every few seconds, static/compose-draft.js, or
the Save draft button), reopening it in compose, discarding it, and dropping it once sent.

The row is written at once, in the request; the server copy follows in a task enqueued after
the commit (mailbox/services/draft_copy.py, mailbox/tasks/drafts.py). A save that arrives
after the same Message-ID was sent (the page's last autosave racing Send) is not stored.
"""

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.formats import time_format

from accounts.models import Identity, MailAccount, User
from mailbox.models import Draft, FolderRole, MessageLocation, OutgoingMessage, OutgoingState
from mailbox.protocols import mime
from mailbox.protocols.mime_build import new_message_id
from mailbox.protocols.types import Protocol
from mailbox.selectors.message import location_for_user
from mailbox.services import uploads
from mailbox.services.reading import raw_message
from mailbox.tasks import drafts as draft_tasks  # the module: its import leads back here

TYPED_FIELDS = ("to", "cc", "bcc", "subject", "text", "html")


def has_server_copy(account: MailAccount | None) -> bool:
    """IMAP accounts keep drafts in their Drafts folder; POP3 ones only here."""
    return account is not None and account.incoming_protocol == Protocol.IMAP


def do_save_draft(user: User, cleaned: dict[str, Any]) -> Draft | None:
    """Stores the form's values (the identity already checked to be the user's) as the newest
    version of the draft of their Message-ID. None when that message is already on its way."""
    message_id: str = cleaned["message_id"]
    if _is_sent(user, message_id):
        return None
    values: dict[str, Any] = {name: cleaned.get(name) or "" for name in TYPED_FIELDS}
    values.update(
        identity=cleaned.get("identity"),
        in_reply_to=" ".join(cleaned.get("in_reply_to") or ()),
        references=" ".join(cleaned.get("references") or ()),
        saved_at=timezone.now(),
    )
    with transaction.atomic():
        draft, created = Draft.objects.get_or_create(
            user=user, message_id=message_id, defaults=values
        )
        if not created:
            Draft.objects.filter(pk=draft.pk).update(**values, version=F("version") + 1)
            draft.refresh_from_db()
        if _needs_server_copy(draft):
            task = partial(draft_tasks.store_server_draft_task.delay, draft.pk)
            transaction.on_commit(task, robust=True)
    return draft


def _needs_server_copy(draft: Draft) -> bool:
    """Its account keeps drafts on the server, or an older copy is on one (From changed)."""
    account = draft.identity.account if draft.identity else None
    return has_server_copy(account) or draft.server_account_id is not None


def _is_sent(user: User, message_id: str) -> bool:
    outgoing = OutgoingMessage.objects.filter(account__user=user, message_id=message_id)
    return outgoing.exclude(state=OutgoingState.CANCELLED).exists()


def saved_label(draft: Draft) -> str:
    """ "Draft saved 10:42", in the person's time zone (active for the request)."""
    return f"Draft saved {time_format(timezone.localtime(draft.saved_at), 'H:i')}"


def do_discard_draft(user: User, message_id: str, identity: Identity | None = None) -> bool:
    """Deletes the draft here and, by a task, in the Drafts folder of the account that holds
    it and of `identity`'s (a draft reopened from the server may have no row yet), with the
    files staged for it. True when there was a row. Send calls it once the message is queued."""
    draft = Draft.objects.filter(user=user, message_id=message_id).first()
    accounts = {identity.account} if identity is not None else set()
    if draft is not None:
        if draft.server_account is not None:
            accounts.add(draft.server_account)
        draft.delete()
    for account in accounts:
        if has_server_copy(account):
            task = partial(draft_tasks.remove_server_draft_task.delay, account.pk, message_id)
            transaction.on_commit(task, robust=True)
    uploads.do_forget_staged(user, message_id)
    return draft is not None


# Reopening ------------------------------------------------------------------------------------


def saved_drafts(user: User) -> list[Draft]:
    """The user's drafts, the latest saved first."""
    return list(Draft.objects.filter(user=user).select_related("identity").order_by("-saved_at"))


def draft_for_user(user: User, draft_id: int) -> Draft:
    """The user's draft (404 for anybody else's)."""
    draft = Draft.objects.filter(user=user, pk=draft_id).select_related("identity").first()
    if draft is None:
        raise Http404("No such draft.")
    return draft


def initial_from_saved(user: User, draft_id: int) -> dict[str, Any]:
    """The compose form refilled from the user's saved draft (404 for anybody else's)."""
    return initial_from_draft(draft_for_user(user, draft_id))


def initial_from_draft(draft: Draft) -> dict[str, Any]:
    """The compose form refilled from a saved draft; the same Message-ID, so going on
    replaces the same draft."""
    initial: dict[str, Any] = {name: getattr(draft, name) for name in TYPED_FIELDS}
    initial.update(
        rich=bool(draft.html),  # the compose page's "Rich text" switch, where it has one
        identity=draft.identity_id,
        message_id=draft.message_id,
        in_reply_to=draft.in_reply_to,
        references=draft.references,
    )
    return initial


def initial_from_location(user: User, location_id: int) -> dict[str, Any]:
    """The compose form refilled from a message of the user's Drafts folder (404 for any other
    message): the saved row of its Message-ID when there is one (it has what was typed), else
    the message itself, which then becomes a saved draft known to be in that folder, so that
    the next save replaces it and Send or Discard removes it there."""
    location = location_for_user(user, location_id)
    if location.folder.role != FolderRole.DRAFTS:
        raise Http404("This message is not a draft.")
    message = location.message
    if message.message_id:
        draft = Draft.objects.filter(user=user, message_id=message.message_id).first()
        if draft is not None:
            return initial_from_draft(draft)
    raw = raw_message(message)
    if raw is None:
        raise Http404("This draft has not been downloaded yet: try again in a moment.")
    initial = _initial_from_raw(raw, message.account)
    if message.message_id == initial["message_id"]:
        _adopt(user, location, initial)
    return initial


def _adopt(user: User, location: MessageLocation, initial: dict[str, Any]) -> None:
    values = {name: initial.get(name) or "" for name in TYPED_FIELDS}
    Draft.objects.get_or_create(
        user=user,
        message_id=initial["message_id"],
        defaults={
            **values,
            "identity_id": initial["identity"],
            "in_reply_to": initial["in_reply_to"],
            "references": initial["references"],
            "saved_at": location.message.date or timezone.now(),
            "server_account": location.folder.account,
            "server_folder": location.folder.name,
            "server_uid": location.uid,
            "server_version": 1,  # the server holds what this row holds
        },
    )


def _initial_from_raw(raw: bytes, account: MailAccount) -> dict[str, Any]:
    parsed = mime.parse_message(raw)
    sender = parsed.from_[0].email.lower() if parsed.from_ else ""
    identities = list(account.identities.order_by("pk"))
    identity = next((i for i in identities if i.email.lower() == sender), None)
    identity = identity or (identities[0] if identities else None)
    return {
        "identity": identity.pk if identity else None,
        "to": _joined(parsed.to),
        "cc": _joined(parsed.cc),
        "bcc": _joined(parsed.bcc),
        "subject": parsed.subject,
        "text": parsed.text.replace("\r\n", "\n"),
        # Without one (another program's draft), a new one: this draft replaces nothing there.
        "message_id": parsed.message_id or new_message_id(account.email.rpartition("@")[2]),
        "in_reply_to": parsed.in_reply_to or "",
        "references": " ".join(parsed.references),
    }


def _joined(addresses: tuple[mime.Address, ...]) -> str:
    return ", ".join(_written(a.name, a.email) for a in addresses)


def _written(name: str, email: str) -> str:
    """ "Name <addr>", the name quoted when it holds what would split the list."""
    name = name.replace('"', "").replace("\\", "")
    if not name:
        return email
    return f'"{name}" <{email}>' if any(c in name for c in ",;:<>@()[].") else f"{name} <{email}>"
