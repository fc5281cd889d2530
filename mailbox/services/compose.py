"""Writing a message: what the compose page opens with (new, reply, reply all, forward) and
sending what the person wrote, which only records it in the outbox; a Celery task sends it
after the commit (mailbox/tasks/send.py). Plain or rich text: services/compose_format.py.
Attachments are staged by mailbox/services/uploads.py (uploads, a forward's, an undone
message's).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import Identity, User
from mailbox.models import Message, OutgoingMessage, OutgoingState
from mailbox.protocols import mime
from mailbox.protocols.mime_build import (
    DraftError,
    HeaderInjection,
    InvalidAddress,
    OutgoingDraft,
    build_message,
    check_one_line,
    new_message_id,
)
from mailbox.protocols.mime_reply import forward_subject, reply_references, reply_subject
from mailbox.selectors.message import location_for_user
from mailbox.selectors.outbox import outgoing_for_user
from mailbox.services import compose_format, correspondents, drafts, uploads
from mailbox.services.outbox import do_queue_message
from mailbox.services.reading import plain_text
from mailbox.tasks.send import send_message_task

Mailbox = tuple[str, str]
FIELDS = {"from": "identity", "to": "to", "cc": "cc", "bcc": "bcc", "subject": "subject"}


@dataclass(frozen=True)
class Source:
    """The message a reply or forward starts from: `kind` is reply, reply_all or forward."""

    kind: str
    location_id: int


def initial_for(user: User, source: Source | None = None) -> dict[str, Any]:
    """The compose form's first values; a source message must be the user's (else 404)."""
    identities = list(Identity.objects.filter(account__user=user).select_related("account"))
    initial: dict[str, Any] = {}
    identity = identities[0] if identities else None
    quote, rich_quote = "", None
    if source is not None:
        message = location_for_user(user, source.location_id).message
        identity = _answering_identity(message, identities) or identity
        initial.update(_answer(message, source.kind, identities))
        quote = _quoted(message, source.kind)
        rich_quote = compose_format.Quote(
            message, _quote_heading(message, source.kind), source.kind == "forward"
        )
    if identity is not None:
        initial["identity"] = identity.pk
        initial["message_id"] = new_message_id(identity.email.rpartition("@")[2])
        if source is not None and source.kind == "forward":  # forward keeps the attachments
            uploads.do_stage_forwarded(user, message, initial["message_id"])
    signature = identity.signature.strip("\n") if identity and identity.signature else ""
    initial["text"] = "\n\n" + (f"-- \n{signature}\n" if signature else "") + quote
    initial.update(compose_format.rich_initial(signature, rich_quote))  # the rich editor's
    return initial


def do_send_draft(user: User, cleaned: dict[str, Any]) -> OutgoingMessage:
    """Queues what the person wrote (the form has checked the identity is theirs). Raises
    DraftError (HeaderInjection, InvalidAddress) before anything is stored."""
    identity: Identity = cleaned["identity"]
    draft = outgoing_draft(user, cleaned)
    built = build_message(draft, allow_private_hosts=settings.MAIL_ALLOW_PRIVATE_HOSTS)
    # The same Message-ID: the first row (or the cancelled one, revived by sending it again).
    queued = do_queue_message(identity.account, built, send_at=cleaned.get("send_at"))
    transaction.on_commit(partial(send_message_task.delay, queued.pk), robust=True)
    correspondents.record_written_to(user, [*draft.to, *draft.cc, *draft.bcc])  # suggested now
    uploads.do_forget_staged(user, queued.message_id)  # the queued raw holds them now
    drafts.do_discard_draft(user, queued.message_id)  # sent: no longer a draft
    return queued


def outgoing_draft(user: User, cleaned: dict[str, Any]) -> OutgoingDraft:
    """The message as the compose form's cleaned values describe it (what Send builds and
    queues). Raises DraftError on an identity not the person's or a wrong address."""
    identity: Identity = cleaned["identity"]
    if identity.account.user_id != user.pk:  # the form offers only the person's own
        raise DraftError("This identity is not one of yours.")
    body = compose_format.body_of(cleaned)  # plain, or rich: sanitised HTML and its text
    return OutgoingDraft(
        from_=(identity.name, identity.email),
        to=parse_addresses("To", cleaned["to"]),
        cc=parse_addresses("Cc", cleaned["cc"]),
        bcc=parse_addresses("Bcc", cleaned["bcc"]),
        reply_to=("", identity.reply_to) if identity.reply_to else None,
        subject=cleaned["subject"],
        text=body.text,
        html=body.html,
        message_id=cleaned["message_id"],
        date=timezone.now(),
        in_reply_to=cleaned["in_reply_to"],
        references=cleaned["references"],
        attachments=uploads.draft_attachments(user, cleaned["message_id"], cleaned["attachments"]),
    )


def initial_from_cancelled(user: User, outgoing_id: int) -> dict[str, Any]:
    """The compose form refilled from a message the person took back (404 unless it is
    theirs and cancelled). Read from the Sent copy, which keeps the Bcc; the same Message-ID,
    so sending it again revives that row; its attachments are staged again."""
    outgoing = outgoing_for_user(user, outgoing_id)
    if outgoing.state != OutgoingState.CANCELLED:
        raise Http404("This message was not taken back.")
    parsed = mime.parse_message(bytes(outgoing.sent_copy))
    sender = parsed.from_[0].email.lower() if parsed.from_ else ""
    identities = Identity.objects.filter(account=outgoing.account).order_by("pk")
    uploads.do_stage_cancelled(user, outgoing)  # its attachments, back on the page
    identity = next((i for i in identities if i.email.lower() == sender), identities.first())
    return {
        "identity": identity.pk if identity else None,
        "to": _joined([(a.name, a.email) for a in parsed.to]),
        "cc": _joined([(a.name, a.email) for a in parsed.cc]),
        "bcc": _joined([(a.name, a.email) for a in parsed.bcc]),
        "subject": parsed.subject,
        "text": parsed.text.replace("\r\n", "\n"),
        "message_id": outgoing.message_id,
        "in_reply_to": parsed.in_reply_to or "",
        "references": " ".join(parsed.references),
        **compose_format.reopened(parsed.html),  # a rich message reopens in the editor
    }


def field_of(error: DraftError) -> str | None:
    """The form field an error belongs beside (None: the form as a whole)."""
    if isinstance(error, HeaderInjection | InvalidAddress):
        return FIELDS.get(error.field.split()[0].lower())
    if "no recipients" in str(error):
        return "to"
    return None


def parse_addresses(field: str, value: str) -> tuple[Mailbox, ...]:
    """ "Name <addr>, other@host" as (name, address) pairs; each must have an address."""
    check_one_line(field, value)
    if not value.strip():
        return ()
    found = []
    for name, address in getaddresses([value]):
        if not address or "@" not in address:
            raise InvalidAddress(field, name or address or value, "it has no address in it.")
        found.append((name, address))
    return tuple(found)


# Replies and forwards -------------------------------------------------------------------------


def _people(message: Message, key: str) -> list[Mailbox]:
    return [(name or "", email) for name, email in message.recipients.get(key) or [] if email]


def _answering_identity(message: Message, identities: list[Identity]) -> Identity | None:
    """The identity the message was sent to, else the default one of its account."""
    addressed = {email.lower() for _, email in _people(message, "to") + _people(message, "cc")}
    same_account = [i for i in identities if i.account_id == message.account_id]
    for identity in same_account:
        if identity.email.lower() in addressed:
            return identity
    return same_account[0] if same_account else None


def _answer(message: Message, kind: str, identities: list[Identity]) -> dict[str, Any]:
    if kind == "forward":
        return {"subject": forward_subject(message.subject)}
    sender = [(message.sender_name, message.sender_email)] if message.sender_email else []
    to = _people(message, "reply_to") or sender
    cc: list[Mailbox] = []
    if kind == "reply_all":
        own = {identity.email.lower() for identity in identities}
        to = _without(to + _people(message, "to"), own)
        cc = _without(_people(message, "cc"), own | {email.lower() for _, email in to})
    references = reply_references(
        message.message_id or None, tuple(message.references), (message.in_reply_to,)
    )
    return {
        "to": _joined(to),
        "cc": _joined(cc),
        "subject": reply_subject(message.subject),
        "in_reply_to": message.message_id if references else "",
        "references": " ".join(references),
    }


def _without(people: Iterable[Mailbox], left_out: set[str]) -> list[Mailbox]:
    kept: dict[str, Mailbox] = {}
    for name, email in people:
        if email.lower() not in left_out:
            kept.setdefault(email.lower(), (name, email))
    return list(kept.values())


def _joined(people: list[Mailbox]) -> str:
    return ", ".join(_written(name, email) for name, email in people)


def _written(name: str, email: str) -> str:
    if not name:
        return email
    name = name.replace('"', "").replace("\\", "")
    return f'"{name}" <{email}>' if any(c in name for c in ",;:<>@()[].") else f"{name} <{email}>"


def _quoted(message: Message, kind: str) -> str:
    text = plain_text(message).strip("\n")
    head = _quote_heading(message, kind)
    if kind == "forward":
        return "\n" + "\n".join(head) + "\n\n" + text + "\n"
    lines = [f"> {line}" if line else ">" for line in text.split("\n")]
    return "\n" + head[0] + "\n" + "\n".join(lines) + "\n"


def _quote_heading(message: Message, kind: str) -> list[str]:
    """The attribution line of a reply, the header block of a forward (plain and rich)."""
    when = timezone.localtime(message.date).strftime("%a %d %b %Y %H:%M") if message.date else ""
    who = _written(message.sender_name, message.sender_email) or "someone"
    if kind == "forward":
        return [
            "---------- Forwarded message ----------",
            f"From: {who}",
            f"Date: {when}",
            f"Subject: {message.subject}",
            f"To: {_joined(_people(message, 'to'))}",
        ]
    return [f"On {when}, {who} wrote:" if when else f"{who} wrote:"]
