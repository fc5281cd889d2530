"""Message bodies into the store: raw file, parsed text, attachments, search text.

The raw bytes are stored first (a file named by their SHA-256), then one short transaction
fills the row. When the same content is already stored for the account (a message moved or
copied by another client, a second label), the new envelope's locations move to that content
and the duplicate row goes: content once, locations many. HTML is sanitised on first open
(mailbox.content), not here, so the first sync spends its time on what the list needs.
"""

from django.db import IntegrityError, transaction

from mailbox import storage
from mailbox.models import Attachment, Message, MessageLocation
from mailbox.models.messages import BodyState
from mailbox.protocols import mime

MAX_SEARCH_CHARS = 200_000


def store_body(message: Message, raw: bytes) -> Message:
    """Fills `message` from its raw bytes; returns the row that now holds the content."""
    stored = storage.store(message.account_id, raw)
    parsed = mime.parse_message(raw)
    with transaction.atomic():
        twin = (
            Message.objects.filter(account_id=message.account_id, sha256=stored.sha256)
            .exclude(pk=message.pk)
            .first()
        )
        if twin is not None:
            return _fold_into(message, twin)
        _fill(message, stored, parsed)
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:  # stored meanwhile by a twin sync: same content, fold
            twin = Message.objects.get(account_id=message.account_id, sha256=stored.sha256)
            return _fold_into(message, twin)
        Attachment.objects.bulk_create(
            [_attachment(message, info) for info in parsed.attachments], ignore_conflicts=True
        )
    return message


def _fold_into(message: Message, twin: Message) -> Message:
    MessageLocation.objects.filter(message=message).update(message=twin)
    message.delete()
    return twin


def _fill(message: Message, stored: storage.StoredRaw, parsed: mime.ParsedMessage) -> None:
    message.sha256 = stored.sha256
    message.raw_path = stored.path
    message.size = stored.size
    message.snippet = parsed.snippet[:300]
    message.has_attachments = parsed.has_attachments
    message.text = parsed.text
    message.parse_problems = "\n".join(parsed.problems)
    message.body_state = BodyState.PARTIAL if _is_partial(parsed) else BodyState.COMPLETE
    message.search_text = "\n".join([message.search_text, parsed.text])[:MAX_SEARCH_CHARS]


def _is_partial(parsed: mime.ParsedMessage) -> bool:
    """Problems that lost content (not mere charset guesses) mark the message."""
    lossy = ("unreadable", "truncated", "too-deep", "too-many-parts", "empty", "no-headers")
    return any(problem.split(":", 1)[0] in lossy for problem in parsed.problems)


def _attachment(message: Message, info: mime.AttachmentInfo) -> Attachment:
    return Attachment(
        message=message,
        part_id=info.part_id[:100],
        filename=(info.filename or "")[:255],
        content_type=info.content_type[:255],
        size=info.size,
        content_id=(info.content_id or "")[:255],
        is_inline=info.is_inline,
    )
