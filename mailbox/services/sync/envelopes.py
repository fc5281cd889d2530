"""Envelopes into the store: one short transaction per batch, safe to apply twice.

A batch creates a Message (envelope only) and a MessageLocation per new UID, joins Gmail
labels of one message on X-GM-MSGID, and files the new messages into conversations. UIDs
already stored are skipped, and the (folder, uid) constraint makes a replayed batch a no-op.
"""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from mailbox.models import Folder, Message, MessageLocation
from mailbox.protocols import mime
from mailbox.protocols.imap_fetch import HeaderInfo
from mailbox.services.sync.flags import location_flags
from mailbox.services.sync.threads import file_into_conversations


def store_envelopes(folder: Folder, infos: Sequence[HeaderInfo]) -> int:
    """Stores the envelopes of UIDs this folder does not hold yet; returns how many."""
    known = set(
        MessageLocation.objects.filter(folder=folder, uid__in=[i.uid for i in infos]).values_list(
            "uid", flat=True
        )
    )
    fresh = [info for info in infos if info.uid not in known]
    if not fresh:
        return 0
    gmail_ids = [i.gmail_message_id for i in fresh if i.gmail_message_id]
    with transaction.atomic():
        by_gmail_id = _stored_gmail_ids(folder.account_id, gmail_ids)
        new_messages: dict[int, Message] = {}
        first_of_gmail_id: dict[int, Message] = {}
        for info in fresh:
            gmail_id = info.gmail_message_id
            if gmail_id and gmail_id in by_gmail_id:
                continue  # another label of a message we have: a new location only
            if gmail_id and gmail_id in first_of_gmail_id:
                continue  # twice in this batch (two labels): one content row
            new_messages[info.uid] = _message(folder.account_id, info)
            if gmail_id:
                first_of_gmail_id[gmail_id] = new_messages[info.uid]
        file_into_conversations(folder.account_id, list(new_messages.values()))
        Message.objects.bulk_create(new_messages.values())
        by_gmail_id |= {gmail_id: message.pk for gmail_id, message in first_of_gmail_id.items()}
        MessageLocation.objects.bulk_create(
            [_location(folder, info, new_messages, by_gmail_id) for info in fresh],
            ignore_conflicts=True,
        )
    return len(fresh)


def _stored_gmail_ids(account_id: int, gmail_ids: list[int]) -> dict[int, int]:
    if not gmail_ids:
        return {}
    stored = Message.objects.filter(account_id=account_id, gmail_msgid__in=gmail_ids)
    return dict(stored.values_list("gmail_msgid", "id"))


def _message(account_id: int, info: HeaderInfo) -> Message:
    parsed = mime.parse_headers(info.headers + b"\r\n")
    return envelope_message(
        account_id,
        parsed,
        arrived=info.internal_date,
        size=info.size,
        gmail_msgid=info.gmail_message_id,
    )


def envelope_message(
    account_id: int,
    parsed: mime.ParsedMessage,
    *,
    arrived: dt.datetime | None,
    size: int,
    gmail_msgid: int | None = None,
) -> Message:
    """An envelope-only row (not saved) from parsed headers; the body comes later."""
    sender = parsed.sender
    return Message(
        account_id=account_id,
        gmail_msgid=gmail_msgid,
        message_id=(parsed.message_id or "")[:998],
        in_reply_to=(parsed.in_reply_to or "")[:998],
        references=list(parsed.references[-50:]),
        subject=parsed.subject,
        sender_name=(sender.name if sender else "")[:300],
        sender_email=(sender.email if sender else "")[:320],
        recipients=_recipients(parsed),
        date=parsed.date or arrived,
        size=size,
        search_text=_envelope_search_text(parsed),
    )


def _recipients(parsed: mime.ParsedMessage) -> dict[str, list[list[str]]]:
    fields = {"to": parsed.to, "cc": parsed.cc, "reply_to": parsed.reply_to}
    return {key: [[a.name, a.email] for a in value] for key, value in fields.items() if value}


def _envelope_search_text(parsed: mime.ParsedMessage) -> str:
    people = (*parsed.from_, *parsed.to, *parsed.cc)
    return "\n".join([parsed.subject, *(f"{a.name} {a.email}" for a in people)])


def _location(
    folder: Folder,
    info: HeaderInfo,
    new_messages: dict[int, Message],
    by_gmail_id: dict[int, int],
) -> MessageLocation:
    message = new_messages.get(info.uid)
    message_id = message.pk if message else by_gmail_id[info.gmail_message_id or 0]
    sort_date = message.date if message else info.internal_date
    return MessageLocation(
        folder=folder,
        message_id=message_id,
        uid=info.uid,
        modseq=info.modseq,
        sort_date=sort_date or dt.datetime.now(dt.UTC),
        **location_flags(info.flags),
    )
