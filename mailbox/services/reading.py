"""What opening a message does: marks it read, makes its HTML ready and decides about images.

Remote images stay blocked unless the person asked for them on this message or trusts its
sender; the frame gets its own signed URL carrying that choice (services/frames.py).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import User
from mailbox import storage
from mailbox.content import SANITIZER_VERSION
from mailbox.models import Message, MessageLocation, TrustedSender
from mailbox.protocols.mime_text import html_to_text
from mailbox.selectors.message import ThreadEntry, trusted_addresses
from mailbox.services.actions import Flag, do_set_flag
from mailbox.services.frames import FrameGrant, frame_url
from mailbox.services.message_html import BodyNotStored, message_html


@dataclass(frozen=True)
class MessageBody:
    is_ready: bool  # False while only the envelope is stored
    images_shown: bool
    offer_images: bool  # remote images are there and blocked: show the banner
    frame_url: str


def mark_opened(locations: Iterable[MessageLocation]) -> int:
    """Marks the unread ones read (replayed on the server like any flag change)."""
    unread = [location for location in locations if not location.is_seen]
    if unread:
        do_set_flag(unread, Flag.SEEN, True)
        for location in unread:
            location.is_seen = True
    return len(unread)


def body_is_ready(message: Message) -> bool:
    """Sanitises the HTML on first open (which also tells whether it has remote images);
    False while the body has not been downloaded."""
    if message.sanitizer_version == SANITIZER_VERSION:
        return True
    try:
        message_html(message, images=False)
    except BodyNotStored:
        return False
    return True


def message_body(user: User, message: Message, *, images: bool, trusted: bool) -> MessageBody:
    """How the frame shows `message`: `images` asked for here, `trusted` sender."""
    ready = body_is_ready(message)
    shown = ready and message.has_remote_images and (images or trusted)
    return MessageBody(
        is_ready=ready,
        images_shown=shown,
        offer_images=ready and message.has_remote_images and not shown,
        frame_url=frame_url(FrameGrant(message.pk, user.pk, shown)),
    )


@dataclass(frozen=True)
class ThreadItem:
    entry: ThreadEntry
    message: Message
    body: MessageBody


def conversation_bodies(
    user: User, entries: list[ThreadEntry], *, images_for: int | None
) -> list[ThreadItem]:
    """Each message of a conversation with its body; `images_for` is the id of the message
    whose remote images the person asked for."""
    messages = [entry.location.message for entry in entries]
    trusted = trusted_addresses(user, [message.sender_email for message in messages])
    return [
        ThreadItem(
            entry,
            message,
            message_body(
                user,
                message,
                images=message.pk == images_for,
                trusted=message.sender_email.lower() in trusted,
            ),
        )
        for entry, message in zip(entries, messages, strict=True)
    ]


def plain_text(message: Message) -> str:
    """The text/plain body; for HTML-only mail, the visible text of the sanitised HTML."""
    if message.text:
        return message.text
    if body_is_ready(message):
        return html_to_text(message_html(message, images=False))
    return ""


def raw_message(message: Message) -> bytes | None:
    """The message as it came from the server; None while only the envelope is stored."""
    return storage.read_raw(message.raw_path) if message.raw_path else None


def do_trust_sender(user: User, address: str) -> None:
    """Remote images from `address` are shown from now on (idempotent)."""
    address = address.strip().lower()
    if not address:
        return
    try:
        with transaction.atomic():
            TrustedSender.objects.get_or_create(user=user, address=address)
    except IntegrityError:  # two clicks at once: the other one stored it
        pass
