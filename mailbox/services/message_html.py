"""The HTML a message is shown as: sanitised on first open, then kept.

The stored result (`html_blocked`, `html_with_images`) is the only HTML the browser ever
receives. It records the sanitiser version that made it (`sanitizer_version`); a result of
another version is made again from the raw message, so bumping SANITIZER_VERSION redoes every
message as it is next opened. Mail without an HTML part is its text as safe HTML, links
clickable. Two first opens at once both compute and write the same result: no lock needed.
"""

from collections.abc import Callable
from urllib.parse import quote

from mailbox import storage
from mailbox.content import SANITIZER_VERSION, sanitize_html, text_to_html
from mailbox.models import Attachment, Message
from mailbox.protocols.mime import parse_message


class BodyNotStored(Exception):
    """Only the envelope is here yet: the body has not been downloaded."""


def message_html(message: Message, *, images: bool) -> str:
    """The sanitised HTML of `message`, with remote images if `images`, else without.

    Raises BodyNotStored (and stores nothing) while only the envelope is stored.
    """
    if message.sanitizer_version != SANITIZER_VERSION:
        _sanitise(message)
    return message.html_with_images if images else message.html_blocked


def _sanitise(message: Message) -> None:
    if not message.raw_path:
        raise BodyNotStored(message.pk)
    parsed = parse_message(storage.read_raw(message.raw_path))
    if parsed.html is None:
        message.html_blocked = message.html_with_images = text_to_html(parsed.text)
        message.has_remote_images = False
    else:
        result = sanitize_html(parsed.html, cid_url=_cid_urls(message))
        message.html_blocked = result.blocked
        message.html_with_images = result.with_images
        message.has_remote_images = result.has_remote_images
    message.sanitizer_version = SANITIZER_VERSION
    # One UPDATE of these four columns only: sync or a person's action may be writing others.
    Message.objects.filter(pk=message.pk).update(
        html_blocked=message.html_blocked,
        html_with_images=message.html_with_images,
        has_remote_images=message.has_remote_images,
        sanitizer_version=message.sanitizer_version,
    )


def _cid_urls(message: Message) -> Callable[[str], str | None]:
    """cid_url for the sanitiser: a Content-ID to `part/<part id>`, None when no part has it.

    Relative on purpose: the stored HTML must not hold an expiring signature, and the message
    frame is served from a signed, short-lived path (/mail/frame/<token>/, with the trailing
    slash), under which `part/<id>` resolves. Content-IDs are compared without angle brackets
    (as both the sanitiser and the MIME parser give them), exactly first, then ignoring case,
    as mime.inline_part finds a part.
    """
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    rows = (
        Attachment.objects.filter(message=message)
        .exclude(content_id="")
        .order_by("id")
        .values_list("content_id", "part_id")
    )
    for content_id, part_id in rows:
        url = "part/" + quote(part_id, safe="")
        exact.setdefault(content_id, url)
        folded.setdefault(content_id.casefold(), url)

    def cid_url(content_id: str) -> str | None:
        return exact.get(content_id) or folded.get(content_id.casefold())

    return cid_url
