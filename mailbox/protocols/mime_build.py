"""An outgoing message built from a draft: the bytes to send, the envelope, the Sent copy.

`build_message(draft)` takes plain values (the caller has already chosen the identity,
sanitised the HTML and picked the Message-ID at compose time, so a resend is the same
message) and returns a `BuiltMessage`:

- `raw`, the bytes given to SMTP: no Bcc header, so Bcc recipients stay invisible;
- `sent_copy`, the bytes appended to the Sent folder: the same message *with* the Bcc header,
  so the person can still see whom they bcc'd (as Thunderbird and Gmail keep it);
- `envelope_from` and `envelope_to` (To + Cc + Bcc, each address once, in order);
- `needs_smtputf8`: some address has a non-ASCII local part, which only an SMTPUTF8 server
  can carry (RFC 6531); the headers are then raw UTF-8 (RFC 6532) instead of encoded words.

Rules kept here: every header input is one line (a CR, LF, NUL or other control character
raises `HeaderInjection` naming the field); addresses are checked by email-validator (syntax
only) and written with IDNA (A-label) domains; names and the subject become RFC 2047 encoded
words, attachment names RFC 2231 parameters; bodies that are not short-lined 7-bit text are
quoted-printable or base64, so every line ends in CRLF and fits 78 octets (998 at most).
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime

from email_validator import EmailNotValidError, validate_email

__all__ = [
    "BuiltMessage",
    "DraftError",
    "HeaderInjection",
    "InvalidAddress",
    "OutgoingAttachment",
    "OutgoingDraft",
    "build_message",
    "new_message_id",
]

Mailbox = tuple[str, str]  # (display name, may be ""; address)

MAX_LINE = 998  # octets, without the CRLF (RFC 5321 4.5.3.1.6)
MAX_ID_LENGTH = 250  # a Message-ID longer than this is not one we write
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_MESSAGE_ID = re.compile(r"<?([!-;=?-~]+@[!-;=?-~]+)>?")  # printable ASCII but "<" and ">"
_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_SHORT_7BIT_LINE = re.compile(r"[\t\x20-\x7e]{0,78}")
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")
_ID_HEADERS = frozenset({"message-id", "in-reply-to", "references"})


class DraftError(ValueError):
    """The draft cannot become a message; the text says why, in words for the person."""


class HeaderInjection(DraftError):
    def __init__(self, field: str) -> None:
        super().__init__(
            f"The {field} contains a line break or control character; it must be one line."
        )
        self.field = field


class InvalidAddress(DraftError):
    def __init__(self, field: str, address: str, reason: str) -> None:
        super().__init__(f"{address!r} in {field} is not a valid email address: {reason}")
        self.field, self.address = field, address


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    content_type: str  # "application/pdf"
    data: bytes


@dataclass(frozen=True)
class OutgoingDraft:
    """What the person wrote. Message ids as "<id@host>" (the brackets may be left out)."""

    from_: Mailbox
    to: tuple[Mailbox, ...]
    subject: str
    text: str
    message_id: str  # chosen at compose time: new_message_id()
    date: dt.datetime  # timezone-aware
    cc: tuple[Mailbox, ...] = ()
    bcc: tuple[Mailbox, ...] = ()
    reply_to: Mailbox | None = None
    html: str | None = None  # already sanitised by the caller
    attachments: tuple[OutgoingAttachment, ...] = ()
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuiltMessage:
    raw: bytes  # for SMTP DATA: no Bcc header
    sent_copy: bytes  # for the Sent folder: with the Bcc header
    envelope_from: str
    envelope_to: tuple[str, ...]
    needs_smtputf8: bool
    message_id: str  # "<id@host>"


class _Policy(EmailPolicy):
    """The email package folds a long Message-ID or References as RFC 2047 words, which no
    client reads as ids: those three fields are folded here, between ids only."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() not in _ID_HEADERS:
            return super().fold(name, value)
        lines = [f"{name}:"]
        for message_id in str(value).split():
            if len(lines[-1]) + 1 + len(message_id) > self.max_line_length:
                lines.append("")
            lines[-1] += f" {message_id}"
        return self.linesep.join(lines) + self.linesep

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() not in _ID_HEADERS:
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


_ASCII_POLICY = _Policy(linesep="\r\n", max_line_length=78, cte_type="7bit")
_UTF8_POLICY = _Policy(linesep="\r\n", max_line_length=78, utf8=True)


def new_message_id(domain: str) -> str:
    """A fresh, unguessable "<id@domain>" for a message being composed."""
    check_one_line("domain of the Message-ID", domain)
    try:
        host = domain.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = ""
    if not _HOST.fullmatch(host):
        raise DraftError(f"{domain[:80]!r} is not a domain name for a Message-ID.")
    return f"<{uuid.uuid4().hex}@{host}>"


def build_message(
    draft: OutgoingDraft, *, allow_private_hosts: bool = False, require_recipients: bool = True
) -> BuiltMessage:
    """The message to send and its Sent copy. Raises DraftError (HeaderInjection,
    InvalidAddress, ...) naming what is wrong; `allow_private_hosts` accepts domains such as
    example.test or mail.lan (MAIL_ALLOW_PRIVATE_HOSTS). `require_recipients=False` builds a
    draft for the Drafts folder, which may have none yet."""
    check = _AddressCheck(allow_private_hosts)
    sender = check.mailbox("From", draft.from_)
    to = [check.mailbox("To", item) for item in draft.to]
    cc = [check.mailbox("Cc", item) for item in draft.cc]
    bcc = [check.mailbox("Bcc", item) for item in draft.bcc]
    reply_to = check.mailbox("Reply-To", draft.reply_to) if draft.reply_to else None
    if require_recipients and not (to or cc or bcc):
        raise DraftError("The message has no recipients: add at least one To, Cc or Bcc.")
    check_one_line("subject", draft.subject)
    if draft.date.tzinfo is None or draft.date.utcoffset() is None:
        raise DraftError("The date of the message must carry a time zone.")

    message = EmailMessage(policy=_UTF8_POLICY if check.needs_smtputf8 else _ASCII_POLICY)
    message["From"] = sender
    if to:
        message["To"] = to
    if cc:
        message["Cc"] = cc
    if bcc:
        message["Bcc"] = bcc
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = draft.subject
    message["Date"] = format_datetime(draft.date)
    message_id = _message_id("Message-ID", draft.message_id)
    message["Message-ID"] = message_id
    if draft.in_reply_to:
        message["In-Reply-To"] = _ids("In-Reply-To", draft.in_reply_to)
    if draft.references:
        message["References"] = _ids("References", draft.references)
    _add_bodies(message, draft)

    sent_copy = _to_bytes(message)
    del message["Bcc"]
    raw = _to_bytes(message) if bcc else sent_copy
    envelope = dict.fromkeys(address.addr_spec for address in to + cc + bcc)
    return BuiltMessage(
        raw=raw,
        sent_copy=sent_copy,
        envelope_from=sender.addr_spec,
        envelope_to=tuple(envelope),
        needs_smtputf8=check.needs_smtputf8,
        message_id=message_id,
    )


def check_one_line(field: str, value: str) -> None:
    """HeaderInjection if `value` holds a line break or another control character."""
    if _CONTROL.search(value):
        raise HeaderInjection(field)


class _AddressCheck:
    def __init__(self, allow_private_hosts: bool) -> None:
        self.allow_private_hosts = allow_private_hosts
        self.needs_smtputf8 = False

    def mailbox(self, field: str, mailbox: Mailbox) -> Address:
        name, address = mailbox
        check_one_line(f"{field} name", name)
        check_one_line(f"{field} address", address)
        try:
            checked = validate_email(
                address.strip(),
                check_deliverability=False,
                globally_deliverable=not self.allow_private_hosts,
                test_environment=self.allow_private_hosts,
            )
        except EmailNotValidError as error:
            raise InvalidAddress(field, address, str(error)) from None
        if not checked.local_part.isascii():
            self.needs_smtputf8 = True
        # Built from its parts: Address(addr_spec=...) refuses non-ASCII local parts.
        return Address(name.strip(), username=checked.local_part, domain=checked.ascii_domain)


def _message_id(field: str, value: str) -> str:
    check_one_line(field, value)
    match = _MESSAGE_ID.fullmatch(value.strip())
    if match is None or len(match.group(0)) > MAX_ID_LENGTH:
        raise DraftError(f"The {field} {value[:80]!r} is not a message id like <id@host>.")
    return f"<{match.group(1)}>"


def _ids(field: str, values: tuple[str, ...]) -> str:
    return " ".join(dict.fromkeys(_message_id(field, value) for value in values))


def _add_bodies(message: EmailMessage, draft: OutgoingDraft) -> None:
    message.set_content(draft.text, cte=_text_encoding(draft.text))
    if draft.html is not None:
        message.add_alternative(draft.html, subtype="html", cte=_text_encoding(draft.html))
    for number, attachment in enumerate(draft.attachments, start=1):
        _attach(message, number, attachment)


def _text_encoding(text: str) -> str:
    """7bit for short lines of printable ASCII; else quoted-printable for mostly-ASCII text
    and base64 for the rest (quoted-printable triples every non-ASCII byte)."""
    if all(_SHORT_7BIT_LINE.fullmatch(line) for line in _LINE_BREAK.split(text)):
        return "7bit"
    data = text.encode("utf-8")
    high = sum(1 for byte in data if byte >= 0x80)
    return "base64" if high * 6 > len(data) else "quoted-printable"


def _attach(message: EmailMessage, number: int, attachment: OutgoingAttachment) -> None:
    check_one_line(f"file name of attachment {number}", attachment.filename)
    check_one_line(f"content type of attachment {number}", attachment.content_type)
    content_type = attachment.content_type.strip().lower()
    if not _MIME_TYPE.fullmatch(content_type) or content_type.startswith("multipart/"):
        raise DraftError(
            f"Attachment {number} has the content type {content_type[:80]!r}, "
            "which is not a single-part type like application/pdf."
        )
    maintype, subtype = content_type.split("/")
    if maintype == "message":  # RFC 2046 5.2: no base64 for message/*; send those as files
        maintype, subtype = "application", "octet-stream"
    message.add_attachment(
        attachment.data, maintype, subtype, filename=attachment.filename.strip() or None
    )


def _to_bytes(message: EmailMessage) -> bytes:
    raw = message.as_bytes()
    for line in raw.split(b"\r\n"):
        if len(line) > MAX_LINE:
            raise DraftError(
                f"A line of the message is {len(line)} octets long, more than mail allows "
                f"({MAX_LINE}): shorten the subject or the names. It starts {line[:40]!r}."
            )
        if b"\r" in line or b"\n" in line:  # nothing here writes a bare CR or LF
            raise AssertionError("the email package wrote a bare CR or LF")
    return raw
