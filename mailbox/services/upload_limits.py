"""How much a message may carry in attachments: MAIL_MAX_UPLOAD_MB for all its files together,
and what the account's SMTP server said it takes (its EHLO SIZE, recorded on the account by
mailbox/services/connections.py). Files travel in base64, 4 bytes for every 3 plus a CRLF
every 76 characters, so 25 MB of files make about 34 MB of message; the text and headers get
HEADROOM on top. The upload view asks for an `allowance` before it reads a body; the compose
form checks the final total with `size_problem`.
"""

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from accounts.models import MailAccount

HEADROOM = 64 * 1024  # bytes for the text, the headers and each part's MIME headers


def attachment_limit() -> int:
    """The most the attachments of one message may weigh together, in bytes."""
    return int(settings.MAIL_MAX_UPLOAD_MB) * 1024 * 1024


def encoded_size(size: int) -> int:
    """`size` bytes in base64 lines of 76 characters, each ending in CRLF (RFC 2045 6.8)."""
    characters = 4 * ((size + 2) // 3)
    return characters + 2 * ((characters + 75) // 76)


def server_limit(account: MailAccount | None) -> int | None:
    """The message size the account's SMTP server accepts; None when it named no limit."""
    size = account.smtp_size_limit if account is not None else None
    return size or None  # 0 is "no limit" (RFC 1870)


def size_problem(total: int, account: MailAccount | None) -> str | None:
    """Why attachments of `total` bytes cannot go with one message from `account`, in words
    for the person; None when they can."""
    limit = attachment_limit()
    if total > limit:
        return (
            f"The attachments come to {_size(total)}; "
            f"a message can carry {_size(limit)} of them at most."
        )
    server = server_limit(account)
    if server is not None and encoded_size(total) + HEADROOM > server:
        return (
            f"The attachments come to {_size(total)}, about {_size(encoded_size(total))} "
            f"once encoded for mail; your mail server ({account.smtp_host}) "  # type: ignore[union-attr]
            f"accepts messages of {_size(server)} at most."
        )
    return None


def allowance(attached: int, account: MailAccount | None) -> int:
    """How many more bytes of files a message that has `attached` bytes of them may take."""
    fits = attachment_limit()
    server = server_limit(account)
    if server is not None:
        fits = min(fits, _largest_encodable(server - HEADROOM))
    return max(fits - attached, 0)


def too_big(name: str, size: int, attached: int, account: MailAccount | None) -> str:
    """The refusal of one more file; before its body is read the name is not known yet and
    `size` is the request's length (name "")."""
    what = f"“{name}” ({_size(size)})" if name else f"This file (about {_size(size)})"
    total, limit, server = attached + size, attachment_limit(), server_limit(account)
    if total > limit or server is None:
        already = f", and {_size(attached)} are attached already" if attached else ""
        return (
            f"{what} is too big to attach: a message can carry {_size(limit)} "
            f"of attachments in all{already}."
        )
    return (
        f"{what} is too big to attach: with it the attachments come to {_size(total)}, "
        f"about {_size(encoded_size(total))} once encoded for mail, and your mail server "
        f"({account.smtp_host}) accepts messages of {_size(server)} at most."  # type: ignore[union-attr]
    )


def _largest_encodable(room: int) -> int:
    """The most bytes whose base64 fits in `room` bytes."""
    if room <= 0:
        return 0
    size = room * 57 // 78  # base64 lines: 57 bytes become 78 (76 characters and CRLF)
    while encoded_size(size + 1) <= room:
        size += 1
    while size > 0 and encoded_size(size) > room:
        size -= 1
    return size


def _size(size: int) -> str:
    return str(filesizeformat(size))
