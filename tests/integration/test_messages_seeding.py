"""The message builders make what real mail programs send, and seeding stores it untouched."""

import datetime as dt
import email
import imaplib
import re
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from tests.harness import messages
from tests.harness.mailservers import MailServerError, MailServers, MailUser

KINDS = messages.every_kind()


def parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# Builders (no servers needed) -----------------------------------------------------------------


@pytest.mark.parametrize("name", list(KINDS))
def test_every_builder_makes_a_clean_crlf_message(name: str):
    raw = KINDS[name]
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    assert raw.isascii(), "8-bit data must be encoded for the wire"
    parsed = parse(raw)
    assert parsed["Message-ID"] and parsed["Date"] and parsed["From"] and parsed["To"]
    for part in parsed.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    assert messages.every_kind()[name] == raw, "not deterministic"


def test_non_ascii_headers_decode_to_german_and_japanese():
    parsed = parse(KINDS["non_ascii_headers"])
    assert b"=?utf-8?" in KINDS["non_ascii_headers"].split(b"\r\n\r\n")[0]
    assert parsed["Subject"] == "Grüße aus Köln – 会議の議事録について"
    assert parsed["From"].addresses[0].display_name == "Jürgen Groß"
    assert parsed["To"].addresses[0].display_name == "山田 由紀"
    assert "議事録" in parsed.get_content()


def test_attachments_keep_their_names_and_bytes():
    parsed = parse(KINDS["with_attachments"])
    attachments = list(parsed.iter_attachments())
    assert [a.get_filename() for a in attachments] == list(messages.ATTACHMENT_NAMES)
    assert attachments[0].get_content() == messages.pdf_bytes()
    assert attachments[1].get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert b"filename*=utf-8''Rechnung%20M%C3%A4rz" in KINDS["with_attachments"]  # RFC 2231


def test_inline_image_is_referenced_by_its_content_id():
    parsed = parse(KINDS["inline_image"])
    html_part = parsed.get_body(preferencelist=("html",))
    assert html_part is not None
    assert f'src="cid:{messages.INLINE_CID}"' in html_part.get_content()
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert [p["Content-ID"] for p in images] == [f"<{messages.INLINE_CID}>"]
    assert any(p.get_content_type() == "multipart/related" for p in parsed.walk())


def test_thread_replies_chain_in_reply_to_and_references():
    parsed = [parse(raw) for raw in messages.thread(4)]
    ids = [p["Message-ID"] for p in parsed]
    assert len(set(ids)) == 4
    assert parsed[0]["In-Reply-To"] is None
    for index in range(1, 4):
        assert parsed[index]["In-Reply-To"] == ids[index - 1]
        assert parsed[index]["References"].split() == ids[:index]
        assert parsed[index]["Subject"] == "Re: Offsite planning"
    dates = [p["Date"].datetime for p in parsed]
    assert dates == sorted(dates)


def test_volume_is_varied_deterministic_and_parseable():
    batch = list(messages.volume(200, seed=7))
    assert batch == list(messages.volume(200, seed=7))
    assert batch != list(messages.volume(200, seed=8))
    parsed = [parse(raw) for raw in batch]
    for message in parsed:
        for part in message.walk():
            assert not part.defects
            if not part.is_multipart():
                part.get_content()
    kinds = {message.get_content_type() for message in parsed}
    assert kinds == {"text/plain", "text/html", "multipart/alternative", "multipart/mixed"}
    assert sum(1 for message in parsed if message["In-Reply-To"]) >= 30
    assert any(not str(message["From"]).isascii() for message in parsed)  # Chloé, Müller, ...
    dates = [parsedate_to_datetime(str(message["Date"])) for message in parsed]
    assert dates == sorted(dates)


# Seeding (real Dovecot) -----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(KINDS))
def test_seeded_message_comes_back_byte_identical_over_imap(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], name: str
):
    user = mail_user()
    mail_servers.seed(user.address, [KINDS[name]])
    [stored] = mail_servers.messages(user.address)
    assert stored.raw == KINDS[name]


def test_seeded_flags_are_visible(mail_servers: MailServers, mail_user: Callable[..., MailUser]):
    user = mail_user()
    unread, read_flagged, answered = messages.thread(3)
    mail_servers.seed(user.address, [unread])
    mail_servers.seed(user.address, [read_flagged], flags=["\\Seen", "\\Flagged"])
    mail_servers.seed(user.address, [answered], flags=["\\Seen", "\\Answered"])
    stored = mail_servers.messages(user.address)
    assert [m.raw for m in stored] == [unread, read_flagged, answered]  # UIDs in seeding order
    assert [m.flags - {"\\Recent"} for m in stored] == [
        set(),
        {"\\Seen", "\\Flagged"},
        {"\\Seen", "\\Answered"},
    ]
    with mail_servers.imap(user.address) as client:
        assert b"(MESSAGES 3 UNSEEN 1)" in client.status("INBOX", "(MESSAGES UNSEEN)")[1][0]


def test_seeding_keeps_order_and_per_message_flags(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user = mail_user()
    batch = list(messages.volume(30, seed=3))
    flags = [["\\Seen"] if i % 3 else [] for i in range(30)]
    mail_servers.seed(user.address, batch, per_message_flags=flags)
    stored = mail_servers.messages(user.address)
    assert [m.raw for m in stored] == batch
    assert [("\\Seen" in m.flags) for m in stored] == [bool(f) for f in flags]
    assert [m.uid for m in stored] == sorted(m.uid for m in stored)


def test_internaldate_is_the_date_header(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user = mail_user()
    mail_servers.seed(user.address, [messages.plain_text()])
    with mail_servers.imap(user.address) as client:
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1", "(INTERNALDATE)")
    internal = imaplib.Internaldate2tuple(data[0])
    assert internal is not None
    assert dt.datetime.fromtimestamp(time.mktime(internal), dt.UTC) == messages.BASE_DATE


def test_seeding_into_special_and_new_folders(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user = mail_user()
    sent, nested = messages.thread(2)
    mail_servers.seed(user.address, [sent], folder="Sent", flags=["\\Seen"])
    mail_servers.seed(user.address, [nested], folder="Projects/2024")
    assert [m.raw for m in mail_servers.messages(user.address, "Sent")] == [sent]
    assert [m.raw for m in mail_servers.messages(user.address, "Projects/2024")] == [nested]
    assert mail_servers.messages(user.address) == []
    with mail_servers.imap(user.address) as client:
        subscribed = b" ".join(client.lsub()[1])
    assert b'"Projects/2024"' in subscribed or b" Projects/2024" in subscribed


def test_seeding_refuses_unknown_flags_and_users(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user = mail_user()
    with pytest.raises(MailServerError, match="system flags"):
        mail_servers.seed(user.address, [messages.plain_text()], flags=["$Label1"])
    with pytest.raises(MailServerError, match="add_user"):
        mail_servers.seed("stranger@example.test", [messages.plain_text()])


def test_seeding_a_thousand_messages_is_fast(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
):
    user = mail_user()
    batch = list(messages.volume(1000, seed=11))
    started = time.monotonic()
    mail_servers.seed(user.address, batch[:600], flags=["\\Seen"])
    mail_servers.seed(user.address, batch[600:])
    assert time.monotonic() - started < 3.0
    with mail_servers.imap(user.address) as client:
        status = client.status("INBOX", "(MESSAGES UNSEEN)")[1][0]
        assert b"(MESSAGES 1000 UNSEEN 400)" in status
        client.select("INBOX", readonly=True)
        _, data = client.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    ids = [re.search(rb"<[^>]+>", item[1]).group(0) for item in data if isinstance(item, tuple)]
    expected = [re.search(rb"Message-ID: (<[^>]+>)", raw).group(1) for raw in batch]
    assert ids == expected
