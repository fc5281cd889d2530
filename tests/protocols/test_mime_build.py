"""build_message(): outgoing MIME read back by our parser and the standard library's."""

import dataclasses
import datetime as dt
import email
import re
from email.message import EmailMessage
from email.policy import default

import pytest

from mailbox.protocols.mime import Address, attachment_bytes, parse_message
from mailbox.protocols.mime_build import (
    BuiltMessage,
    DraftError,
    HeaderInjection,
    InvalidAddress,
    OutgoingAttachment,
    OutgoingDraft,
    build_message,
    new_message_id,
)
from mailbox.protocols.mime_reply import forward_subject, reply_references, reply_subject

DATE = dt.datetime(2025, 3, 4, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
DRAFT = OutgoingDraft(
    from_=("Alice Example", "alice@example.test"),
    to=(("Bob Example", "bob@example.test"),),
    subject="Quarterly numbers",
    text="Hi Bob,\n\nthe numbers are in.\n\nAlice\n",
    message_id="<q1.numbers@example.test>",
    date=DATE,
)
PDF = OutgoingAttachment("report.pdf", "application/pdf", b"%PDF-1.4\r\n\x00\xff\xfe binary\n")
GERMAN = OutgoingAttachment("Übersicht März.txt", "text/plain", "Grüße\r\n".encode("latin-1"))


def build(**changes: object) -> BuiltMessage:
    return build_message(dataclasses.replace(DRAFT, **changes), allow_private_hosts=True)


def stdlib(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=default)  # type: ignore[return-value]


def assert_smtp_safe(raw: bytes) -> None:
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 78  # headers folded, bodies encoded


def test_a_plain_message_reads_back_as_written() -> None:
    built = build(cc=(("", "carol@other.test"),), reply_to=("Alice", "replies@example.test"))

    parsed = parse_message(built.raw)
    assert parsed.problems == ()
    assert parsed.subject == "Quarterly numbers" and parsed.date == DATE
    assert parsed.from_ == (Address("Alice Example", "alice@example.test"),)
    assert parsed.to == (Address("Bob Example", "bob@example.test"),)
    assert parsed.cc == (Address("", "carol@other.test"),)
    assert parsed.reply_to == (Address("Alice", "replies@example.test"),)
    assert parsed.message_id == built.message_id == "<q1.numbers@example.test>"
    assert parsed.text == DRAFT.text and parsed.html is None and parsed.attachments == ()
    assert b"Content-Transfer-Encoding: 7bit" in built.raw
    assert built.envelope_from == "alice@example.test"
    assert built.envelope_to == ("bob@example.test", "carol@other.test")
    assert not built.needs_smtputf8
    assert_smtp_safe(built.raw)


def test_non_ascii_names_and_subject_are_encoded_words_and_survive() -> None:
    subject = "Grüße aus Köln – 山田さんへ, " + "sehr lange Zeile " * 8
    built = build(
        from_=("Jürgen Groß", "juergen@example.test"),
        to=(("山田 由紀", "yuki@other.test"), ('Smith, "Bob"', "bob@example.test")),
        subject=subject,
    )

    assert built.raw.isascii() and b"=?utf-8?" in built.raw
    parsed, message = parse_message(built.raw), stdlib(built.raw)
    assert parsed.subject == " ".join(subject.split()) and message["Subject"] == subject
    assert parsed.from_ == (Address("Jürgen Groß", "juergen@example.test"),)
    assert parsed.to == (
        Address("山田 由紀", "yuki@other.test"),
        Address('Smith, "Bob"', "bob@example.test"),
    )
    assert [a.display_name for a in message["To"].addresses] == ["山田 由紀", 'Smith, "Bob"']
    assert_smtp_safe(built.raw)


def test_html_makes_a_multipart_alternative() -> None:
    html = "<p>Hi Bob,</p><p>the numbers are <b>in</b>.</p>"
    built = build(html=html)

    message = stdlib(built.raw)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    parsed = parse_message(built.raw)
    assert parsed.text == DRAFT.text and parsed.html == html + "\n"
    assert parsed.attachments == () and parsed.problems == ()


def test_attachments_come_back_byte_for_byte_with_their_names() -> None:
    built = build(html="<p>Hi</p>", attachments=(PDF, GERMAN))

    message = stdlib(built.raw)
    assert message.get_content_type() == "multipart/mixed"
    assert b"filename*=utf-8''%C3%9Cbersicht%20M%C3%A4rz.txt" in built.raw
    files = [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    ]
    assert files == [
        ("report.pdf", "application/pdf", PDF.data),
        ("Übersicht März.txt", "text/plain", GERMAN.data),
    ]
    parsed = parse_message(built.raw)
    assert parsed.problems == () and parsed.text == DRAFT.text
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("report.pdf", "application/pdf"),
        ("Übersicht März.txt", "text/plain"),
    ]
    for info, sent in zip(parsed.attachments, (PDF, GERMAN), strict=True):
        assert attachment_bytes(built.raw, info.part_id)[1] == sent.data
    assert_smtp_safe(built.raw)


def test_an_attached_message_goes_as_a_file() -> None:
    eml = "Subject: Grüße\r\n\r\nbody\r\n".encode()
    built = build(attachments=(OutgoingAttachment("old.eml", "message/rfc822", eml),))

    [info] = parse_message(built.raw).attachments
    assert (info.filename, info.content_type) == ("old.eml", "application/octet-stream")
    assert attachment_bytes(built.raw, info.part_id)[1] == eml


def test_bcc_is_in_the_sent_copy_only_and_the_envelope_has_everyone_once() -> None:
    built = build(
        to=(("Bob", "bob@example.test"), ("Carol", "carol@other.test")),
        cc=(("Bob again", "bob@example.test"),),
        bcc=(("Dave", "dave@other.test"), ("", "carol@other.test")),
    )

    assert b"Bcc" not in built.raw and b"dave" not in built.raw
    assert parse_message(built.raw).bcc == ()
    assert parse_message(built.sent_copy).bcc == (
        Address("Dave", "dave@other.test"),
        Address("", "carol@other.test"),
    )
    assert built.sent_copy.replace(b"Bcc: Dave <dave@other.test>, carol@other.test\r\n", b"") == (
        built.raw
    )
    assert built.envelope_to == ("bob@example.test", "carol@other.test", "dave@other.test")


def test_without_bcc_the_sent_copy_is_the_sent_message() -> None:
    built = build()
    assert built.sent_copy == built.raw


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("ASCII only, " * 20 + "\n", "quoted-printable"),  # one line longer than 78
        ("Grüße aus Köln, wir sehen uns morgen um zehn.\nÀ bientôt, Jürgen\n", "quoted-printable"),
        ("山田さん、こんにちは。\n" * 30, "base64"),
        ("a NUL \x00 and a tab\there\n", "quoted-printable"),
        ("x" * 5000 + "\n" + "é" * 3000 + "\n", "base64"),
    ],
)
def test_long_or_non_ascii_bodies_are_encoded_within_line_limits(text: str, encoding: str) -> None:
    built = build(text=text, html=f"<pre>{text}</pre>")

    assert f"Content-Transfer-Encoding: {encoding}".encode() in built.raw
    assert_smtp_safe(built.raw)
    parsed = parse_message(built.raw)
    assert parsed.text == text.replace("\x00", "")  # the parser drops NULs when reading
    assert parsed.html == f"<pre>{text.replace(chr(0), '')}</pre>\n"


def test_line_breaks_in_the_body_are_sent_as_crlf() -> None:
    built = build(text="one\rtwo\r\nthree\nfour")

    assert b"\r\n\r\none\r\ntwo\r\nthree\r\nfour\r\n" in built.raw
    assert_smtp_safe(built.raw)


def test_a_5_mb_attachment_is_base64_in_76_character_lines() -> None:
    data = bytes(range(256)) * (5 * 4096)
    built = build(attachments=(OutgoingAttachment("big.bin", "application/octet-stream", data),))

    part = built.raw.split(b'filename="big.bin"', 1)[1]
    encoded = part.split(b"\r\n\r\n")[1].split(b"\r\n")
    assert len(encoded) == -(-len(data) // 57)
    assert {len(line) for line in encoded[:-1]} == {76} and len(encoded[-1]) <= 76
    assert b"Content-Transfer-Encoding: base64" in built.raw
    assert_smtp_safe(built.raw)
    assert attachment_bytes(built.raw, "2")[1] == data  # part 1 is the text


def test_thread_headers_are_folded_between_ids_never_encoded() -> None:
    references = tuple(f"<{'r' * 50}.{n}@example.test>" for n in range(12))
    built = build(in_reply_to=(references[-1],), references=references)

    assert b"=?" not in built.raw
    assert_smtp_safe(built.raw)
    parsed = parse_message(built.raw)
    assert parsed.references == references and parsed.in_reply_to == references[-1]
    assert stdlib(built.raw)["Message-ID"] == "<q1.numbers@example.test>"


def test_an_id_longer_than_a_line_gets_a_line_of_its_own() -> None:
    long_id = f"<{'l' * 200}@example.test>"
    built = build(references=("<root@example.test>", long_id))

    assert f"References: <root@example.test>\r\n {long_id}\r\n".encode() in built.raw
    assert parse_message(built.raw).references == ("<root@example.test>", long_id)


def test_message_ids_are_accepted_without_angle_brackets() -> None:
    built = build(message_id="abc@example.test", in_reply_to=("parent@x.test",))

    assert b"Message-ID: <abc@example.test>\r\n" in built.raw
    assert b"In-Reply-To: <parent@x.test>\r\n" in built.raw


def test_idna_domains_are_written_as_a_labels() -> None:
    built = build(to=(("", "Bob@Bücher.example"),))

    assert built.raw.isascii() and not built.needs_smtputf8
    assert built.envelope_to == ("Bob@xn--bcher-kva.example",)
    assert parse_message(built.raw).to == (Address("", "Bob@xn--bcher-kva.example"),)


def test_a_non_ascii_local_part_needs_smtputf8() -> None:
    built = build(to=(("山田", "由紀@例え.jp"),), subject="Grüße")

    assert built.needs_smtputf8
    assert built.envelope_to == ("由紀@xn--r8jz45g.jp",)
    assert "由紀@xn--r8jz45g.jp".encode() in built.raw  # RFC 6532: raw UTF-8 headers
    parsed = parse_message(built.raw)
    assert parsed.to == (Address("山田", "由紀@xn--r8jz45g.jp"),) and parsed.subject == "Grüße"
    assert_smtp_safe(built.raw)


INJECTIONS = ["\r\nBcc: eve@evil.test", "\nX: y", "\rX: y", "\x00"]
FIELDS = {
    "subject": lambda bad: {"subject": f"Hello{bad}"},
    "From name": lambda bad: {"from_": (f"Alice{bad}", "alice@example.test")},
    "From address": lambda bad: {"from_": ("Alice", f"alice@example.test{bad}")},
    "To name": lambda bad: {"to": (("Bob", "bob@example.test"), (f"C{bad}", "c@example.test"))},
    "To address": lambda bad: {"to": (("Bob", f"bob@example.test{bad}"),)},
    "Cc name": lambda bad: {"cc": ((f"Carol{bad}", "carol@example.test"),)},
    "Bcc address": lambda bad: {"bcc": (("", f"{bad}dave@example.test"),)},
    "Reply-To name": lambda bad: {"reply_to": (f"A{bad}", "a@example.test")},
    "Message-ID": lambda bad: {"message_id": f"<a{bad}@example.test>"},
    "In-Reply-To": lambda bad: {"in_reply_to": (f"<a@example.test>{bad}",)},
    "References": lambda bad: {"references": ("<a@x.test>", f"<b{bad}@x.test>")},
    "file name of attachment 2": lambda bad: {
        "attachments": (PDF, OutgoingAttachment(f"a{bad}.txt", "text/plain", b""))
    },
    "content type of attachment 1": lambda bad: {
        "attachments": (OutgoingAttachment("a.txt", f"text/plain{bad}", b""),)
    },
}


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_line_break_in_any_header_input_is_refused_naming_the_field(field: str, bad: str) -> None:
    with pytest.raises(HeaderInjection, match=re.escape(f"The {field} contains a line break")):
        build(**FIELDS[field](bad))


@pytest.mark.parametrize(
    "address",
    ["bob", "bob@", "@example.test", "bob smith@example.test", "a@b@example.test", "bob@-x-.test"],
)
def test_invalid_addresses_are_refused_naming_the_address(address: str) -> None:
    with pytest.raises(InvalidAddress, match=re.escape(repr(address))) as caught:
        build(cc=(("", address),))
    assert caught.value.field == "Cc" and caught.value.address == address
    assert isinstance(caught.value, ValueError)


def test_special_use_domains_need_private_hosts_allowed() -> None:
    with pytest.raises(InvalidAddress, match="special-use or reserved name"):
        build_message(DRAFT)
    draft = dataclasses.replace(
        DRAFT, from_=("", "alice@example.com"), to=(("", "bob@example.org"),)
    )
    assert build_message(draft).envelope_to == ("bob@example.org",)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"to": ()}, "no recipients"),
        ({"date": dt.datetime(2025, 3, 4, 10, 30)}, "time zone"),  # noqa: DTZ001
        ({"message_id": "no-at-sign"}, "not a message id"),
        ({"references": ("<a b@x.test>",)}, "not a message id"),
        ({"message_id": f"<{'x' * 300}@x.test>"}, "not a message id"),
        ({"attachments": (OutgoingAttachment("a", "pdf", b""),)}, "not a single-part type"),
        ({"attachments": (OutgoingAttachment("a", "multipart/mixed", b""),)}, "single-part"),
        ({"from_": ("x" * 1200, "alice@example.test")}, "more than mail allows"),
    ],
)
def test_drafts_that_cannot_be_sent_are_refused_in_words(changes: dict, words: str) -> None:
    with pytest.raises(DraftError, match=words):
        build(**changes)


def test_new_message_ids_are_unique_and_use_the_ascii_domain() -> None:
    first, second = new_message_id("Bücher.example"), new_message_id("example.test")

    assert re.fullmatch(r"<[0-9a-f]{32}@xn--bcher-kva\.example>", first)
    assert second.endswith("@example.test>") and second != new_message_id("example.test")
    with pytest.raises(HeaderInjection):
        new_message_id("example.test\r\nBcc: x")
    for bad in ("", "a b.test", "a..test", "<x>"):
        with pytest.raises(DraftError, match="not a domain name"):
            new_message_id(bad)


@pytest.mark.parametrize(
    ("subject", "reply"),
    [
        ("Plans", "Re: Plans"),
        ("Re: Plans", "Re: Plans"),
        ("Re: Re: Plans", "Re: Plans"),
        ("RE: re:Plans", "Re: Plans"),
        ("AW: Re[2]: Fwd: Plans", "Re: Plans"),
        ("FW: Fwd:  Plans  for   May", "Re: Plans for May"),
        ("SV: VS: Antw: Plans", "Re: Plans"),
        ("回复：Plans", "Re: Plans"),
        ("[team] Re: Plans", "Re: [team] Re: Plans"),  # list tags stay where they are
        ("Regarding: the plan", "Re: Regarding: the plan"),  # a word, not a prefix
        ("Re:", "Re:"),
        ("", "Re:"),
    ],
)
def test_reply_subjects_do_not_stack_prefixes(subject: str, reply: str) -> None:
    assert reply_subject(subject) == reply


def test_forward_subjects_do_not_stack_prefixes() -> None:
    assert forward_subject("Fwd: FW: Re: Plans") == "Fwd: Plans"
    assert forward_subject("Plans") == "Fwd: Plans"


def test_reply_references_are_the_parents_and_its_id() -> None:
    assert reply_references("<p@x.test>", ("<a@x.test>", "<b@x.test>")) == (
        "<a@x.test>",
        "<b@x.test>",
        "<p@x.test>",
    )
    assert reply_references("<p@x.test>") == ("<p@x.test>",)
    assert reply_references(None, ("<a@x.test>",)) == ("<a@x.test>",)
    assert reply_references("<p@x.test>", ("<p@x.test>",)) == ("<p@x.test>",)  # no repeats


def test_without_references_a_single_in_reply_to_starts_the_list() -> None:
    assert reply_references("<p@x.test>", (), ("<a@x.test>",)) == ("<a@x.test>", "<p@x.test>")
    assert reply_references("<p@x.test>", (), ("<a@x.test>", "<b@x.test>")) == ("<p@x.test>",)


def test_long_threads_keep_the_root_and_the_latest_references() -> None:
    earlier = tuple(f"<m{n}@x.test>" for n in range(50))

    kept = reply_references("<p@x.test>", earlier, limit=5)

    assert kept == ("<m0@x.test>", "<m47@x.test>", "<m48@x.test>", "<m49@x.test>", "<p@x.test>")
    assert len(reply_references("<p@x.test>", earlier)) == 20


def test_ids_build_message_would_refuse_are_left_out_of_references() -> None:
    earlier = ("<root@x.test>", f"<{'l' * 300}@x.test>", "<no-at-sign>", "<ü@x.test>")

    references = reply_references("<p@x.test>", earlier)

    assert references == ("<root@x.test>", "<p@x.test>")
    assert build(references=references).message_id == DRAFT.message_id
