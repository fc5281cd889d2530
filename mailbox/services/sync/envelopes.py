"""Envelopes into the store: one short transaction per batch, safe to apply twice.

A batch creates a Message (envelope only) and a MessageLocation per new UID, joins Gmail
labels of one message on X-GM-MSGID, and files the new messages into conversations. UIDs
already stored are skipped, and the (folder, uid) constraint makes a replayed batch a no-op.
Rows go in as plain tuples (mailbox/models/bulk.py): building model instances for them cost
more than everything else in this stage but the IMAP fetch.
"""

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from mailbox.models import Folder, Message, MessageLocation
from mailbox.models.bulk import insert_rows
from mailbox.protocols import mime
from mailbox.protocols.imap_envelopes import EnvelopeFields, FetchedEnvelope, envelope_fields
from mailbox.protocols.imap_fetch import HeaderInfo
from mailbox.services.sync.flags import location_flags
from mailbox.services.sync.threads import file_into_conversations
from mailbox.services.sync.uids import locations_of_uids


@dataclasses.dataclass(slots=True)
class EnvelopeRow:
    """The columns of an envelope-only Message, before it has a row."""

    account_id: int
    gmail_msgid: int | None
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    sender_name: str
    sender_email: str
    recipients: dict[str, list[list[str]]]
    date: dt.datetime | None
    size: int
    search_text: str
    parse_problems: str  # the header fields' (the body's are added with the body)
    thread_id: int | None = None


ENVELOPE_FIELDS = [field.name for field in dataclasses.fields(EnvelopeRow)]


def store_envelopes(folder: Folder, envelopes: Sequence[FetchedEnvelope]) -> int:
    """Stores the envelopes of UIDs this folder does not hold yet; returns how many.

    `envelopes`: each fetched message with its envelope's values (imap_envelopes)."""
    uids = [info.uid for info, _ in envelopes]
    known = set(locations_of_uids(folder, uids).values_list("uid", flat=True))
    fresh = [(info, fields) for info, fields in envelopes if info.uid not in known]
    if not fresh:
        return 0
    gmail_ids = [info.gmail_message_id for info, _ in fresh if info.gmail_message_id]
    with transaction.atomic():
        message_of_gmail_id = _stored_gmail_ids(folder.account_id, gmail_ids)
        new_rows: dict[int, EnvelopeRow] = {}  # by UID
        for info, fields in fresh:
            gmail_id = info.gmail_message_id
            if gmail_id and gmail_id in message_of_gmail_id:
                continue  # another label of a message we have: a new location only
            new_rows[info.uid] = envelope_row(
                folder.account_id,
                fields,
                arrived=info.internal_date,
                size=info.size,
                gmail_msgid=gmail_id,
            )
            if gmail_id:
                message_of_gmail_id[gmail_id] = 0  # twice in this batch: one content row
        rows = list(new_rows.values())
        file_into_conversations(folder.account_id, rows)
        ids = insert_rows(Message, ENVELOPE_FIELDS, [_values(r) for r in rows], returning_ids=True)
        message_of_uid = dict(zip(new_rows, ids, strict=True))
        for uid, row in zip(new_rows, rows, strict=True):
            if row.gmail_msgid:
                message_of_gmail_id[row.gmail_msgid] = message_of_uid[uid]
        locations = [
            _location(folder, info, new_rows, message_of_uid, message_of_gmail_id)
            for info, _ in fresh
        ]
        insert_rows(MessageLocation, _location_fields(), locations, ignore_conflicts=True)
    return len(fresh)


def _stored_gmail_ids(account_id: int, gmail_ids: list[int]) -> dict[int, int]:
    if not gmail_ids:
        return {}
    stored = Message.objects.filter(account_id=account_id, gmail_msgid__in=gmail_ids)
    return dict(stored.values_list("gmail_msgid", "id"))


def envelope_row(
    account_id: int,
    fields: EnvelopeFields,
    *,
    arrived: dt.datetime | None,
    size: int,
    gmail_msgid: int | None = None,
) -> EnvelopeRow:
    """An envelope-only message; the body comes later."""
    columns = fields._replace(date=fields.date or arrived)._asdict()
    return EnvelopeRow(account_id=account_id, gmail_msgid=gmail_msgid, size=size, **columns)


def envelope_message(
    account_id: int, parsed: mime.ParsedMessage, *, arrived: dt.datetime | None, size: int
) -> Message:
    """An envelope-only Message instance (not saved), for paths that save one at a time."""
    row = envelope_row(account_id, envelope_fields(parsed), arrived=arrived, size=size)
    return Message(**{name: getattr(row, name) for name in ENVELOPE_FIELDS})


def _values(row: EnvelopeRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in ENVELOPE_FIELDS)


def _location_fields() -> list[str]:
    return ["folder_id", "message_id", "uid", "modseq", "sort_date", *location_flags(())]


def _location(
    folder: Folder,
    info: HeaderInfo,
    new_rows: dict[int, EnvelopeRow],
    message_of_uid: dict[int, int],
    message_of_gmail_id: dict[int, int],
) -> tuple[Any, ...]:
    row = new_rows.get(info.uid)
    if row is not None:
        message_id, sort_date = message_of_uid[info.uid], row.date
    else:  # another label of a stored message
        message_id, sort_date = message_of_gmail_id[info.gmail_message_id or 0], info.internal_date
    flags = location_flags(info.flags)
    return (
        folder.pk,
        message_id,
        info.uid,
        info.modseq,
        sort_date or dt.datetime.now(dt.UTC),
        *flags.values(),
    )
