"""parse_message() on the hand-written corpus in tests/fixtures/eml/, one quirk per file.

Each test checks what a person would see: subject, sender, body, attachments, and that the
quirk is noted in `problems`.
"""

import datetime as dt
from pathlib import Path

import pytest

from mailbox.protocols.mime import Address, ParsedMessage, attachment_bytes, parse_message

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "eml"


def raw(name: str) -> bytes:
    return (CORPUS / f"{name}.eml").read_bytes()


def parse(name: str) -> ParsedMessage:
    return parse_message(raw(name))


def codes(message: ParsedMessage) -> set[str]:
    return {problem.split(":")[0] for problem in message.problems}


def names(message: ParsedMessage) -> list[str]:
    return [info.filename for info in message.attachments]


def test_it_reads_an_unknown_charset_as_utf8_and_says_so() -> None:
    message = parse("unknown-charset-x-unknown-8bit")

    assert message.subject == "Café order for Friday"
    assert "two café crème and a Grüße" in message.text
    assert codes(message) == {"charset-fallback"}
    assert any("x-unknown-8bit" in problem for problem in message.problems)


def test_it_finds_the_parts_of_a_multipart_without_a_boundary() -> None:
    message = parse("missing-boundary")

    assert message.text.strip() == "The report is attached."
    [report] = message.attachments
    assert (report.filename, report.content_type, report.part_id) == ("report.csv", "text/csv", "2")
    assert (
        attachment_bytes(raw("missing-boundary"), "2")[1] == b"month,total\r\njan,10\r\nfeb,12\r\n"
    )
    assert {"guessed-boundary", "missing-boundary"} <= codes(message)


def test_it_finds_the_parts_when_the_body_uses_another_boundary() -> None:
    message = parse("wrong-boundary")

    assert message.text == "Plain version."
    assert message.html == "<p>HTML version.</p>"
    assert message.attachments == ()
    assert {"guessed-boundary", "boundary-not-found"} <= codes(message)


def test_it_decodes_rfc2231_file_names_with_their_charsets() -> None:
    message = parse("rfc2231-filename-utf8")

    assert names(message) == ["Résumé final.pdf", "日本語 notes.txt", "Grüße.bin"]
    assert [info.size for info in message.attachments] == [14, 14, 3]
    assert message.text == "Two files."  # the named text/plain part is a file, not body
    assert message.problems == ()


def test_it_decodes_rfc2047_latin1_subject_and_names() -> None:
    message = parse("rfc2047-subject-iso-8859-1")

    assert message.subject == "Grüße aus München und Köln"  # two words joined, no gap
    assert message.sender == Address("Jürgen Groß", "juergen@other.test")
    assert message.cc == (
        Address("Müller, Anna", "anna@other.test"),  # the comma is inside the encoded name
        Address("François", "francois@other.test"),
    )
    assert "schöne Grüße aus München!" in message.text
    assert message.text.count("\n") == 5  # LF-only source: lines kept as they are


def test_it_stops_at_the_nesting_limit_and_keeps_what_is_above() -> None:
    message = parse("deeply-nested-50-levels")

    assert message.text == "Outer text, readable."
    assert "Treasure" not in message.text
    assert codes(message) == {"too-deep"}


def test_an_html_only_message_has_a_snippet_without_tags_scripts_or_styles() -> None:
    message = parse("html-only")

    assert message.text == ""
    assert message.html is not None and "<h1>This week</h1>" in message.html
    assert message.snippet == "This week Café opening & more news. Read the rest online."
    assert message.problems == ()


def test_an_inline_cid_image_is_not_an_attachment_to_a_person() -> None:
    message = parse("inline-cid-image")

    [logo] = message.attachments
    assert logo.is_inline and logo.content_id == "logo@example.test"
    assert (logo.filename, logo.content_type, logo.part_id) == ("logo.png", "image/png", "2")
    assert not message.has_attachments
    assert message.snippet == "The new logo:"


def test_it_reads_utf8_labelled_latin1_and_the_reverse() -> None:
    message = parse("wrong-declared-charset")

    assert message.text == "Straße und Grüße, € 20\nSecond part in Latin-1: naïve déjà vu"
    assert len(message.problems) == 2 and codes(message) == {"charset-fallback"}


def test_a_message_without_a_date_has_none_and_a_problem() -> None:
    message = parse("no-date")

    assert message.date is None
    assert message.subject == "Sent without a date"
    assert codes(message) == {"no-date"}


def test_an_unreadable_date_is_none_and_a_problem() -> None:
    message = parse("bad-date")

    assert message.date is None
    assert message.problems == ("bad-date: 'Someday in spring, around teatime'",)


def test_dates_are_timezone_aware() -> None:
    date = parse("rfc2047-subject-iso-8859-1").date

    assert date is not None and date.utcoffset() == dt.timedelta(hours=1)
    assert date == dt.datetime(2024, 3, 7, 10, 0, tzinfo=dt.UTC)


def test_it_reads_raw_utf8_in_headers_and_file_names() -> None:
    message = parse("8bit-headers-utf8-raw")

    assert message.subject == "Grüße – raw UTF-8 in headers"
    assert message.sender == Address("Jürgen Groß", "juergen@other.test")
    assert [a.email for a in message.to] == ["user@xn--mnchen-3ya.test", "élodie@münchen.test"]
    assert names(message) == ["Übersicht März.pdf"]
    assert message.text == "Anbei die Übersicht."


def test_a_tnef_attachment_is_listed_as_it_is() -> None:
    message = parse("winmail-like")

    [winmail] = message.attachments
    assert (winmail.filename, winmail.content_type, winmail.size) == (
        "winmail.dat",
        "application/ms-tnef",
        64,
    )
    assert message.text == "Please see the agenda."


def test_an_empty_message_gives_an_empty_result_and_says_so() -> None:
    message = parse("empty")

    assert (message.subject, message.text, message.html, message.sender) == ("", "", None, None)
    assert message.size == 0
    assert "empty" in codes(message)


def test_binary_garbage_gives_what_could_be_read_and_says_so() -> None:
    message = parse("binary-garbage")

    assert message.sender is None and message.subject == ""
    assert message.size == 600
    assert {"no-headers", "malformed-header"} <= codes(message)
    assert "\x00" not in message.text and "\x00" not in message.snippet


def test_an_attached_message_is_an_attachment_not_body() -> None:
    source = raw("message-rfc822-attached")
    message = parse_message(source)

    assert message.text == "See the message below."
    [forwarded] = message.attachments
    assert forwarded.filename == "The original.eml"  # named after its subject
    assert forwarded.content_type == "message/rfc822"
    inner = source.split(b"Content-Disposition: attachment\r\n\r\n")[1].split(b"\r\n--outer--")[0]
    info, data = attachment_bytes(source, forwarded.part_id)
    # Byte for byte, and its closing boundary line ends with a line break, as a file does.
    assert data == inner + b"\r\n"
    assert info == forwarded and forwarded.size == len(data)


def test_base64_without_padding_is_decoded_anyway() -> None:
    source = raw("base64-broken-padding")
    message = parse_message(source)

    assert message.text == "Hello world, padding is missing"
    assert attachment_bytes(source, "2")[1] == bytes(range(10))
    assert codes(message) == {"bad-base64"}


def test_quoted_printable_soft_breaks_join_lines_and_split_characters() -> None:
    message = parse("quoted-printable-soft-breaks")

    first, second = message.text.splitlines()
    assert "with soft line breaks, even in the middle of a café character" in first
    assert first.endswith("as one line. ")  # =20 keeps the trailing space
    assert second == "Second line."


def test_a_calendar_invitation_is_an_attachment_and_the_alternative_text_the_body() -> None:
    message = parse("text-calendar")

    assert message.text == "You are invited to the planning meeting."
    assert message.html == "<p>You are invited to the <b>planning meeting</b>.</p>"
    assert [(a.part_id, a.content_type, a.filename) for a in message.attachments] == [
        ("1.3", "text/calendar", "part-1.3.ics"),
        ("2", "application/ics", "invite.ics"),
    ]
    assert b"METHOD:REQUEST" in attachment_bytes(raw("text-calendar"), "1.3")[1]


def test_several_authors_are_all_kept_and_a_second_from_header_is_noted() -> None:
    message = parse("multiple-from")

    assert message.sender == Address("Alice Example", "alice@example.test")
    assert [a.email for a in message.from_] == [
        "alice@example.test",
        "bob@example.test",
        "mallory@evil.test",
    ]
    assert message.problems == ("duplicate-header: 2 From headers",)


def test_huge_headers_are_cut_to_size() -> None:
    message = parse("huge-header-line")

    assert len(message.subject) == 1000 and message.subject.startswith("very long subject")
    assert message.references[0] == "<ref.0@example.test>"  # the thread's root is kept
    assert message.references[-1] == "<ref.299@example.test>"
    assert len(message.references) == 100
    assert message.in_reply_to == "<ref.299@example.test>"  # the comment is not an id
    assert codes(message) == {"truncated"}


def test_hostile_file_names_are_made_safe() -> None:
    message = parse("hostile-filenames")

    assert names(message) == [
        "passwd",
        "evilSet-Cookie_ x.txt",  # CR, LF and NUL gone, the colon replaced
        "invoicefdp.exe",  # the right-to-left override gone: the real extension shows
        "run.bat",
        "part-6.bin",  # ".." is no name at all
    ]


def test_a_multipart_cut_off_in_transit_keeps_what_arrived() -> None:
    message = parse("unterminated-multipart")

    assert message.text == "The attachment below was cut off."
    assert names(message) == ["half.pdf"]
    assert codes(message) == {"unterminated-multipart"}


def test_gb2312_is_read_as_gb18030_which_senders_really_use() -> None:
    message = parse("charset-superset-gb2312")

    assert message.subject == "会议通知"
    assert message.sender == Address("赵磊", "zhao@other.test")
    assert message.text == "会议在镕市。\n"  # 镕 is not in GB2312 proper
    assert message.problems == ()


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.eml")), ids=lambda path: path.stem)
def test_every_corpus_message_parses_and_its_attachments_download(path: Path) -> None:
    source = path.read_bytes()
    message = parse_message(source)

    assert message.size == len(source)
    for info in message.attachments:
        listed, data = attachment_bytes(source, info.part_id)
        assert listed == info and len(data) == info.size
