"""One message, its parts and its conversation, as the person who owns them sees them.

Every query goes through MailAccount.user, and locations hidden by a pending delete
(`is_deleted`) count as gone: another person's id and a deleted message both answer 404.
The sanitised HTML columns are left unread here: only the frame view reads them.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from accounts.models import User
from mailbox.models import Attachment, Message, MessageLocation, Thread, TrustedSender
from mailbox.services.parts import raster_type

# Big columns a page does not show (the frame reads the HTML on its own request; the text
# is read when the plain-text view asks for it).
_UNSHOWN = ("html_blocked", "html_with_images", "search_text", "text")


@dataclass(frozen=True)
class AttachmentItem:
    part_id: str
    name: str
    content_type: str
    size: int
    is_image: bool  # a raster image: previewed in the page


@dataclass(frozen=True)
class ThreadEntry:
    location: MessageLocation  # where the person opens it; `location.message` is the content
    attachments: list[AttachmentItem]


def _shown_locations(user: User) -> QuerySet[MessageLocation]:
    return (
        MessageLocation.objects.filter(folder__account__user=user, is_deleted=False)
        .select_related("folder__account", "message")
        .defer(*(f"message__{name}" for name in _UNSHOWN))
    )


def location_for_user(user: User, location_id: int) -> MessageLocation:
    """The user's message at this location, with its folder, account and content."""
    location = _shown_locations(user).filter(pk=location_id).first()
    if location is None:
        raise Http404("No such message.")
    return location


def thread_for_user(user: User, thread_id: int) -> Thread:
    thread = Thread.objects.filter(pk=thread_id, account__user=user).first()
    if thread is None:
        raise Http404("No such conversation.")
    return thread


def thread_entries(user: User, thread: Thread) -> list[ThreadEntry]:
    """The conversation's messages, oldest first, each at one of its shown locations; a
    message whose every location is hidden is left out."""
    rows = _shown_locations(user).filter(message__thread=thread)
    first: dict[int, MessageLocation] = {}
    for location in rows.order_by("message__date", "message_id", "pk"):
        first.setdefault(location.message_id, location)
    if not first:
        raise Http404("No such conversation.")
    attachments = attachments_of(list(first))
    return [
        ThreadEntry(location, attachments[message_id]) for message_id, location in first.items()
    ]


def attachments_of(message_ids: list[int]) -> dict[int, list[AttachmentItem]]:
    """The attachments a person sees (not the images the HTML shows inline), by message."""
    found: dict[int, list[AttachmentItem]] = defaultdict(list)
    rows = Attachment.objects.filter(message_id__in=message_ids, is_inline=False).order_by("id")
    for row in rows:
        found[row.message_id].append(
            AttachmentItem(
                part_id=row.part_id,
                name=row.filename or f"part {row.part_id}",
                content_type=row.content_type,
                size=row.size,
                is_image=raster_type(row.content_type) is not None,
            )
        )
    return found


def has_part(message: Message, part_id: str) -> bool:
    return Attachment.objects.filter(message=message, part_id=part_id).exists()


def trusted_addresses(user: User, addresses: list[str]) -> set[str]:
    """Which of these sender addresses the user shows remote images from (lowercased)."""
    wanted = {address.lower() for address in addresses if address}
    if not wanted:
        return set()
    rows = TrustedSender.objects.filter(user=user, address__in=wanted)
    return set(rows.values_list("address", flat=True))


def framed_message(message_id: int, user_id: int) -> Message | None:
    """The message a frame token names, while it is still that user's and shown somewhere."""
    shown = MessageLocation.objects.filter(message=OuterRef("pk"), is_deleted=False)
    return (
        Message.objects.filter(pk=message_id, account__user_id=user_id)
        .filter(Exists(shown))
        .first()
    )
