"""parse_message() on the realistic messages of tests/harness/messages.py."""

import datetime as dt

import pytest

from mailbox.protocols.mime import Address, attachment_bytes, inline_part, parse_message
from tests.harness import messages

ALICE = Address("Alice Example", "alice@example.test")
BOB = Address("Bob Example", "bob@example.test")
JUERGEN = Address("Jürgen Groß", "juergen@other.test")
YUKI = Address("山田 由紀", "yuki@other.test")
KINDS = messages.every_kind()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_parses_without_problems(kind: str) -> None:
    message = parse_message(KINDS[kind])

    assert message.problems == ()
    assert message.subject and message.sender and message.to
    assert message.date is not None and message.date.tzinfo is not None
    assert message.message_id is not None and message.message_id.startswith("<")
    assert message.snippet and len(message.snippet) <= 201
    assert message.size == len(KINDS[kind])


def test_plain_text_reads_as_sent() -> None:
    message = parse_message(KINDS["plain_text"])

    assert message.subject == "Quarterly numbers"
    assert message.sender == ALICE and message.from_ == (ALICE,) and message.to == (BOB,)
    assert message.date == messages.BASE_DATE
    assert message.message_id == "<quarterly-numbers.1@example.test>"
    assert message.text == messages.PLAIN_BODY
    assert message.html is None and message.attachments == ()
    assert message.snippet.startswith("Hi Bob, the numbers for the first quarter are in:")


def test_html_only_has_html_and_a_snippet_from_it() -> None:
    message = parse_message(KINDS["html_only"])

    assert message.text == "" and message.html == messages.HTML_BODY
    assert message.snippet == (
        "Hi Bob, the numbers for the first quarter are in: Revenue +4 % Costs ±0 Thanks, Alice"
    )


def test_alternative_gives_both_bodies_and_no_attachment() -> None:
    message = parse_message(KINDS["alternative"])

    assert message.text == messages.PLAIN_BODY
    assert message.html == messages.HTML_BODY
    assert message.attachments == () and not message.has_attachments


def test_attachments_are_listed_with_names_types_sizes_and_section_numbers() -> None:
    message = parse_message(KINDS["with_attachments"])

    assert message.text == "Hello,\n\nplease find the invoice and the diagram attached.\n\nAlice\n"
    assert [(a.part_id, a.filename, a.content_type) for a in message.attachments] == [
        ("2", "Rechnung März 2024.pdf", "application/pdf"),
        ("3", "diagram.png", "image/png"),
        ("4", "見積書 (draft).txt", "text/plain"),
    ]
    assert [a.size for a in message.attachments] == [6022, len(messages.png_bytes()), 53]
    assert message.has_attachments
    assert not any(a.is_inline or a.content_id for a in message.attachments)


def test_attachment_bytes_are_the_original_files() -> None:
    raw = KINDS["with_attachments"]

    assert attachment_bytes(raw, "2")[1] == messages.pdf_bytes()
    assert attachment_bytes(raw, "3")[1] == messages.png_bytes()
    info, text = attachment_bytes(raw, "4")
    assert text.decode() == "見積もりの下書きです。\n金額: 12.000 円\n"
    assert info.filename == "見積書 (draft).txt"


def test_an_inline_image_is_found_by_its_content_id_and_is_no_attachment() -> None:
    raw = KINDS["inline_image"]
    message = parse_message(raw)

    [logo] = message.attachments
    assert (logo.part_id, logo.content_id, logo.is_inline) == ("2.2", messages.INLINE_CID, True)
    assert not message.has_attachments
    assert f"cid:{messages.INLINE_CID}" in (message.html or "")
    assert message.text == "Our new logo is in the HTML version of this message.\n"
    expected = messages.png_bytes(rgb=(204, 51, 0))
    cid = messages.INLINE_CID
    for reference in (f"cid:{cid}", f"<{cid}>", cid, cid.replace("@", "%40"), cid.upper()):
        info, data = inline_part(raw, reference)
        assert (info, data) == (logo, expected)


def test_non_ascii_headers_decode_to_names_and_subject() -> None:
    message = parse_message(KINDS["non_ascii_headers"])

    assert message.subject == "Grüße aus Köln – 会議の議事録について"
    assert message.sender == JUERGEN
    assert message.to == (YUKI, ALICE)
    assert "議事録を添付します。" in message.text


def test_a_thread_links_each_reply_to_its_parent_and_the_chain() -> None:
    thread = [parse_message(raw) for raw in messages.thread()]

    ids = [message.message_id for message in thread]
    assert thread[0].in_reply_to is None and thread[0].references == ()
    for index, message in enumerate(thread[1:], start=1):
        assert message.in_reply_to == ids[index - 1]
        assert message.references == tuple(ids[:index])
        assert message.subject == "Re: Offsite planning"
    assert [m.sender for m in thread] == [ALICE, BOB, JUERGEN, ALICE]
    assert thread[3].date == messages.BASE_DATE + dt.timedelta(hours=9)


def test_volume_messages_all_parse_with_a_subject_sender_and_body() -> None:
    for raw in messages.volume(200, seed=3):
        message = parse_message(raw)
        assert message.problems == ()
        assert message.subject and message.sender and message.snippet
        assert message.text or message.html
