"""Realistic RFC 5322 messages as bytes (CRLF line ends, as they travel over SMTP and IMAP).

Built with the standard `email` package (`volume()` assembles the same standard pieces by hand,
for speed); every Date, Message-ID and MIME boundary is explicit, so a message built twice is
byte for byte the same. Non-ASCII headers come out RFC 2047 encoded and non-ASCII attachment
names RFC 2231 encoded, as real mail programs send them.

    raw = plain_text(Envelope(sender=person("a@example.test", "Ann"), to=(person(b),)))
"""

import base64
import binascii
import datetime as dt
import hashlib
import random
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.header import Header as EmailHeader
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

WIRE = policy.SMTP  # CRLF, RFC 2047/2231 for non-ASCII, 78-column folding
BASE_DATE = dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.UTC)

ALICE = Address("Alice Example", "alice", "example.test")
BOB = Address("Bob Example", "bob", "example.test")
JUERGEN = Address("Jürgen Groß", "juergen", "other.test")
YUKI = Address("山田 由紀", "yuki", "other.test")


def person(address: str, name: str = "") -> Address:
    """An Address from "user@domain" and an optional display name."""
    local, _, domain = address.partition("@")
    return Address(name, local, domain)


@dataclass(frozen=True)
class Envelope:
    """The headers every builder takes; override any of them per message."""

    sender: Address = field(default_factory=lambda: ALICE)
    to: Sequence[Address] = (BOB,)
    cc: Sequence[Address] = ()
    subject: str = "Quarterly numbers"
    date: dt.datetime = BASE_DATE
    message_id: str = "<quarterly-numbers.1@example.test>"
    extra_headers: Sequence[tuple[str, str]] = ()


def _new(envelope: Envelope) -> EmailMessage:
    message = EmailMessage(policy=policy.default)
    message["From"] = envelope.sender
    message["To"] = list(envelope.to)
    if envelope.cc:
        message["Cc"] = list(envelope.cc)
    message["Subject"] = envelope.subject
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    for name, value in envelope.extra_headers:
        message[name] = value
    return message


def _bytes(message: EmailMessage) -> bytes:
    # The email package picks random MIME boundaries; derive them from the Message-ID instead.
    key = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:20]
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_{key}_{index}")
    return message.as_bytes(policy=WIRE)


def _text(message: EmailMessage, text: str) -> None:
    message.set_content(text, charset="utf-8", cte="quoted-printable")


PLAIN_BODY = (
    "Hi Bob,\n\n"
    "the numbers for the first quarter are in: revenue is up 4 % on last year, costs are flat.\n"
    "Could you check the table before Thursday's meeting?\n\n"
    "Thanks,\nAlice\n\n-- \nAlice Example · Finance · +49 30 1234567\n"
)
HTML_BODY = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><style>td{padding:4px}</style></head>'
    "<body><p>Hi Bob,</p><p>the numbers for the <b>first quarter</b> are in:</p>"
    "<table><tr><td>Revenue</td><td>+4&nbsp;%</td></tr><tr><td>Costs</td><td>±0</td></tr>"
    "</table><p>Thanks,<br>Alice</p></body></html>\n"
)


def plain_text(envelope: Envelope | None = None, body: str = PLAIN_BODY) -> bytes:
    """text/plain, UTF-8, quoted-printable."""
    message = _new(envelope or Envelope())
    _text(message, body)
    return _bytes(message)


def html_only(envelope: Envelope | None = None, html: str = HTML_BODY) -> bytes:
    """text/html and nothing else (newsletters, some web mailers)."""
    message = _new(envelope or Envelope(subject="Newsletter"))
    message.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return _bytes(message)


def alternative(
    envelope: Envelope | None = None, text: str = PLAIN_BODY, html: str = HTML_BODY
) -> bytes:
    """multipart/alternative: a text part, then the HTML part most clients show."""
    message = _new(envelope or Envelope())
    _text(message, text)
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return _bytes(message)


def pdf_bytes(size: int = 6000, seed: int = 1) -> bytes:
    """Binary that starts and ends like a PDF (enough for type sniffing and downloads)."""
    noise = random.Random(seed).randbytes(size)
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + noise + b"\n%%EOF\n"


def png_bytes(
    width: int = 16, height: int = 16, rgb: tuple[int, int, int] = (0, 102, 204)
) -> bytes:
    """A real, valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


ATTACHMENT_NAMES = ("Rechnung März 2024.pdf", "diagram.png", "見積書 (draft).txt")


def with_attachments(envelope: Envelope | None = None) -> bytes:
    """multipart/mixed: text, a PDF, a PNG and a text file with a non-ASCII (RFC 2231) name."""
    message = _new(envelope or Envelope(subject="Invoice and diagram"))
    _text(message, "Hello,\n\nplease find the invoice and the diagram attached.\n\nAlice\n")
    pdf_name, png_name, text_name = ATTACHMENT_NAMES
    message.add_attachment(pdf_bytes(), maintype="application", subtype="pdf", filename=pdf_name)
    message.add_attachment(png_bytes(), maintype="image", subtype="png", filename=png_name)
    message.add_attachment(
        "見積もりの下書きです。\n金額: 12.000 円\n",
        charset="utf-8",
        cte="base64",
        filename=text_name,
    )
    return _bytes(message)


INLINE_CID = "logo.1@example.test"


def inline_image(envelope: Envelope | None = None) -> bytes:
    """multipart/alternative whose HTML part is multipart/related with a `cid:` image."""
    message = _new(envelope or Envelope(subject="Our new logo"))
    _text(message, "Our new logo is in the HTML version of this message.\n")
    html = (
        "<html><body><p>Our new logo:</p>"
        f'<p><img src="cid:{INLINE_CID}" alt="Logo" width="16" height="16"></p></body></html>\n'
    )
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    html_part = message.get_payload()[1]
    html_part.add_related(
        png_bytes(rgb=(204, 51, 0)), maintype="image", subtype="png", cid=f"<{INLINE_CID}>",
        filename="logo.png",
    )  # fmt: skip
    return _bytes(message)


def non_ascii_headers(envelope: Envelope | None = None) -> bytes:
    """German and Japanese subject and display names (RFC 2047), UTF-8 body."""
    envelope = envelope or Envelope(
        sender=JUERGEN,
        to=(YUKI, ALICE),
        subject="Grüße aus Köln – 会議の議事録について",
        message_id="<gruesse.1@other.test>",
    )
    return plain_text(
        envelope,
        body="Hallo Yuki, hallo Alice,\n\nanbei das Protokoll. Schöne Grüße!\n\n"
        "議事録を添付します。よろしくお願いします。\n\nJürgen\n",
    )


def thread(
    length: int = 4,
    subject: str = "Offsite planning",
    people: Sequence[Address] = (ALICE, BOB, JUERGEN),
    start: dt.datetime = BASE_DATE,
    domain: str = "example.test",
) -> list[bytes]:
    """A conversation: each reply has In-Reply-To its parent and References to the whole chain."""
    messages, ids = [], []
    for index in range(length):
        sender = people[index % len(people)]
        others = tuple(p for p in people if p != sender)
        message_id = f"<{subject.lower().replace(' ', '-')}.{index}@{domain}>"
        headers: list[tuple[str, str]] = []
        if ids:
            headers = [("In-Reply-To", ids[-1]), ("References", " ".join(ids))]
        envelope = Envelope(
            sender=sender,
            to=others[:1],
            cc=others[1:],
            subject=subject if index == 0 else f"Re: {subject}",
            date=start + dt.timedelta(hours=3 * index),
            message_id=message_id,
            extra_headers=headers,
        )
        quote = "".join(f"> line {n} of message {index - 1}\n" for n in range(3)) if ids else ""
        body = f"{quote}\nMessage {index + 1} of the thread, from {sender.display_name}.\n"
        messages.append(plain_text(envelope, body=body))
        ids.append(message_id)
    return messages


def every_kind() -> dict[str, bytes]:
    """One message of each builder, by name (for parametrised tests)."""
    return {
        "plain_text": plain_text(),
        "html_only": html_only(Envelope(subject="Newsletter", message_id="<news.1@example.test>")),
        "alternative": alternative(Envelope(message_id="<alt.1@example.test>")),
        "with_attachments": with_attachments(
            Envelope(subject="Invoice and diagram", message_id="<att.1@example.test>")
        ),
        "inline_image": inline_image(
            Envelope(subject="Our new logo", message_id="<inline.1@example.test>")
        ),
        "non_ascii_headers": non_ascii_headers(),
        **{f"thread_{i}": message for i, message in enumerate(thread())},
    }


# Volume -------------------------------------------------------------------------------------
# The email package needs ~5 ms a message (50 s for 10,000), so volume messages are assembled
# from the same standard pieces by hand: RFC 2047 headers, quoted-printable text, base64
# attachments, fixed boundaries. tests/integration/test_messages_seeding.py parses them back.

_FIRST = ("Anna", "Ben", "Chloé", "David", "Émile", "Fatma", "Grzegorz", "Hana", "Ivan", "José")
_LAST = ("Müller", "Schmidt", "Nakamura", "Okafor", "Rossi", "Dubois", "Kowalski", "Silva")
_TOPICS = (
    "budget", "release plan", "team lunch", "contract renewal", "server migration",
    "holiday rota", "customer feedback", "Ärger mit dem Drucker", "design review",
    "invoice 2024-0042", "出張の件", "onboarding checklist", "security update",
)  # fmt: skip
_WORDS = (
    "please", "review", "the", "attached", "numbers", "before", "our", "meeting", "next",
    "week", "thanks", "for", "quick", "reply", "we", "should", "discuss", "this", "again",
    "tomorrow", "schedule", "update", "draft", "final", "version", "agree", "budget", "plan",
)  # fmt: skip


def _person(rng: random.Random, domain: str) -> Address:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = f"{first}.{last}".lower().encode("ascii", "ignore").decode() or "someone"
    return Address(f"{first} {last}", local, domain)


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n\n".join(
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 60))).capitalize() + "."
        for _ in range(count)
    )


def volume(
    count: int,
    seed: int = 0,
    to: Address = BOB,
    start: dt.datetime = BASE_DATE,
    domains: Sequence[str] = ("example.test", "other.test"),
) -> Iterator[bytes]:
    """`count` varied messages (same seed, same bytes), one every ~17 minutes from `start`.

    About 60 % plain text, 25 % multipart/alternative, 10 % with a PDF attachment, 5 % HTML
    only; every fifth message replies to an earlier one. ~10,000 a second.
    """
    rng = random.Random(seed)
    earlier: list[tuple[str, str]] = []  # (message id, subject) of messages one can reply to
    for index in range(count):
        sender = _person(rng, rng.choice(domains))
        message_id = f"<vol.{seed}.{index}@{sender.domain}>"
        headers: list[tuple[str, str]] = []
        if earlier and index % 5 == 4:
            parent_id, parent_subject = rng.choice(earlier)
            subject = f"Re: {parent_subject}"
            headers = [("In-Reply-To", parent_id), ("References", parent_id)]
        else:
            subject = f"{rng.choice(_TOPICS).capitalize()} #{index}"
            earlier.append((message_id, subject))
        envelope = Envelope(
            sender=sender,
            to=(to,),
            subject=subject,
            date=start + dt.timedelta(minutes=17 * index, seconds=rng.randint(0, 59)),
            message_id=message_id,
            extra_headers=headers,
        )
        yield _volume_message(rng, envelope, boundary=f"=_vol_{seed}_{index}")


def _volume_message(rng: random.Random, envelope: Envelope, boundary: str) -> bytes:
    text = _paragraphs(rng, rng.randint(1, 5)) + f"\n\n{envelope.sender.display_name}\n"
    html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    html = f"<html><body>{html}</body></html>\n"
    kind = rng.random()
    if kind < 0.60:
        body = _text_part(text, "plain")
    elif kind < 0.85:
        body = _multipart("alternative", boundary, [_text_part(text), _text_part(html, "html")])
    elif kind < 0.95:
        size = rng.randint(500, 20_000)
        pdf = pdf_bytes(size, seed=rng.randint(0, 1 << 30))
        attachment = _base64_part(pdf, "application/pdf", f"document-{size}.pdf")
        body = _multipart("mixed", boundary, [_text_part(text), attachment])
    else:
        body = _text_part(html, "html")
    return (_wire_headers(envelope) + "MIME-Version: 1.0\r\n" + body).encode("ascii")


def _wire_headers(envelope: Envelope) -> str:
    def address(a: Address) -> str:
        return formataddr((a.display_name, a.addr_spec), charset="utf-8")  # RFC 2047 name

    headers = [
        ("From", address(envelope.sender)),
        ("To", ", ".join(address(a) for a in envelope.to)),
        ("Subject", envelope.subject),
        ("Date", format_datetime(envelope.date)),
        ("Message-ID", envelope.message_id),
        *envelope.extra_headers,
    ]
    lines = []
    for name, value in headers:
        if not value.isascii():
            value = EmailHeader(value, "utf-8", header_name=name).encode(linesep="\r\n")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines)


def _text_part(text: str, subtype: str = "plain") -> str:
    encoded = binascii.b2a_qp(text.encode(), istext=True).decode("ascii")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded.replace("\n", "\r\n")
    )


def _base64_part(data: bytes, content_type: str, filename: str) -> str:
    encoded = base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")
    return (
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n{encoded}'
    )


def _multipart(subtype: str, boundary: str, parts: list[str]) -> str:
    inner = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts)
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n{inner}--{boundary}--\r\n'
    )
