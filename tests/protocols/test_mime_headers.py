"""Header decoding, charset fallbacks and HTML-to-text, on byte and string literals."""

import pytest

from mailbox.protocols.mime_charsets import codec_for, decode_bytes
from mailbox.protocols.mime_headers import (
    Address,
    decode_header,
    parse_addresses,
    parse_date,
    parse_ids,
)
from mailbox.protocols.mime_text import html_to_text, snippet


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=?utf-8?Q?Gr=C3=BC=C3=9Fe?=", "Grüße"),
        ("=?UTF-8?B?R3LDvMOfZQ==?=", "Grüße"),
        ("=?utf-8?B?R3LDvMOfZQ?=", "Grüße"),  # padding missing
        ("=?utf-8?B?R3LD?= =?utf-8?B?vMOfZQ==?=", "Grüße"),  # a character split across words
        ("=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=", "ab"),  # folding between words vanishes
        ("Re: =?utf-8?Q?caf=C3=A9?= time", "Re: café time"),  # ... but not around text
        ("=?iso-8859-1?q?Fran=E7ois?= and =?koi8-r?B?8NLJ18XU?=", "François and Привет"),
        ("=?utf-8*en?Q?hello?=", "hello"),  # RFC 2231 language suffix
        ("=?utf-8?Q?Hello World?=", "Hello World"),  # spaces inside: out of spec, seen
        ("=?utf-8?X?unknown-encoding?=", "=?utf-8?X?unknown-encoding?="),
        ("plain   text\twith\r\n  folding", "plain text with folding"),
        ("nul\x00and\x07bell", "nulandbell"),
        ("Gr\udcc3\udcbc\udcc3\udc9fe", "Grüße"),  # raw UTF-8 as the parser hands it over
        ("Gr\udcfc\udcdfe", "Grüße"),  # raw Latin-1
    ],
)
def test_header_text_is_decoded_unfolded_and_cleaned(value: str, text: str) -> None:
    assert decode_header(value) == text


def test_an_unknown_charset_in_a_header_is_a_noted_fallback() -> None:
    problems: list[str] = []

    assert decode_header("=?x-klingon?Q?caf=C3=A9?=", problems) == "café"
    assert problems == ["charset-fallback: header unknown charset 'x-klingon', read as utf-8"]


@pytest.mark.parametrize(
    ("values", "addresses"),
    [
        (["Alice <a@x.test>"], [Address("Alice", "a@x.test")]),
        (["a@x.test, <b@y.test>"], [Address("", "a@x.test"), Address("", "b@y.test")]),
        (
            ["Alice <a@x.test>", "Bob <b@y.test>"],
            [Address("Alice", "a@x.test"), Address("Bob", "b@y.test")],
        ),  # fmt: skip
        (['"Doe, John" <j@x.test>'], [Address("Doe, John", "j@x.test")]),
        (["j@x.test (John Doe)"], [Address("John Doe", "j@x.test")]),  # the old style
        (["=?utf-8?Q?J=C3=BCrgen?= <j@x.test>"], [Address("Jürgen", "j@x.test")]),
        (["undisclosed-recipients:;"], []),
        (["team: a@x.test, b@x.test;"], [Address("", "a@x.test"), Address("", "b@x.test")]),
        (["user@xn--mnchen-3ya.test"], [Address("", "user@xn--mnchen-3ya.test")]),
        ([""], []),
        ([], []),
    ],
)
def test_addresses_are_split_before_names_are_decoded(
    values: list[str], addresses: list[Address]
) -> None:
    assert list(parse_addresses(values)) == addresses


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("<a@x>", ("<a@x>",)),
        ("<a@x> <b@y>\r\n <c@z>", ("<a@x>", "<b@y>", "<c@z>")),
        ("<a@x> (Alice's message of Tue) <a@x>", ("<a@x>",)),
        ('Your message of "Tue, 5 Mar" <a@x>', ("<a@x>",)),
        ("a@x", ("<a@x>",)),  # no brackets: some old programs
        ("<a@x>,<b@y>", ("<a@x>", "<b@y>")),
        ("no ids here", ()),
        ("", ()),
        (None, ()),
    ],
)
def test_message_ids_are_found_in_messy_headers(value: str | None, ids: tuple[str, ...]) -> None:
    assert parse_ids(value) == ids


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("Mon, 4 Mar 2024 09:30:00 +0100", "2024-03-04T09:30:00+01:00"),
        ("4 Mar 2024 09:30:00 GMT", "2024-03-04T09:30:00+00:00"),
        ("Mon, 4 Mar 2024 09:30:00 -0000", "2024-03-04T09:30:00+00:00"),  # zone unknown: UTC
        ("Mon, 4 Mar 24 09:30 +0000", "2024-03-04T09:30:00+00:00"),
        ("Mon,  4 Mar 2024\r\n 09:30:00 +0000 (UTC)", "2024-03-04T09:30:00+00:00"),
    ],
)
def test_dates_are_parsed_timezone_aware(value: str, iso: str) -> None:
    problems: list[str] = []

    date = parse_date(value, problems)

    assert date is not None and date.isoformat() == iso and problems == []


@pytest.mark.parametrize("value", ["", "yesterday", "Mon, 99 Foo 2024 99:99:99", "32 Jan 99999"])
def test_unreadable_dates_are_none_with_a_problem(value: str) -> None:
    problems: list[str] = []

    assert parse_date(value, problems) is None
    assert [p.split(":")[0] for p in problems] == ["bad-date"]


@pytest.mark.parametrize(
    ("data", "label", "text", "noted"),
    [
        (b"caf\xc3\xa9", "utf-8", "café", False),
        (b"caf\xe9", "iso-8859-1", "café", False),
        (b"\x93quoted\x94", "iso-8859-1", "“quoted”", False),  # Latin-1 labels mean cp1252
        (b"\xa4 5", "iso-8859-15", "€ 5", False),  # ... but Latin-9 is its own
        (b"caf\xc3\xa9", "iso-8859-1", "café", True),  # labelled Latin-1, really UTF-8
        (b"caf\xc3\xa9", "us-ascii", "café", True),
        (b"caf\xe9", "us-ascii", "café", True),
        (b"caf\xe9", "utf-8", "café", True),  # labelled UTF-8, really Latin-1
        (b"caf\xc3\xa9", None, "café", True),
        (b"caf\xc3\xa9", "x-unknown-8bit", "café", True),
        (b"\xff\xfe", "x-unknown-8bit", "ÿþ", True),
        (b"caf\xc3\xa9", "punycode", "café", True),  # refused: quadratic on hostile input
        (b"caf\xc3\xa9", "base64", "café", True),  # not a character set at all
        (b"+AGMAYQBmAOk-", "utf-7", "café", False),
        (b"+2D0-", "utf-7", "\ufffd", False),  # a lone surrogate, which no database stores
        (b"\xc1\xd3\xd6", "koi8-r", "асж", False),
        (b"\x1b$B$3$s\x1b(B", "iso-2022-jp", "こん", False),  # all 7-bit, yet not ASCII
        (b"p\x00l\x00a\x00n\x00", "utf-16-le", "plan", False),  # nor is UTF-16
    ],
)
def test_text_is_decoded_with_fallbacks_and_never_raises(
    data: bytes, label: str | None, text: str, noted: bool
) -> None:
    decoded, note = decode_bytes(data, label)

    assert decoded.replace("\ufffd", "") == text.replace("\ufffd", "")
    assert (note is not None) == noted


def test_codec_aliases_choose_what_senders_really_use() -> None:
    assert codec_for("gb2312") == "gb18030"
    assert codec_for("ks_c_5601-1987") == "cp949"
    assert codec_for('"UTF-8"') == "utf-8"
    assert codec_for("rot13") is None and codec_for("zlib") is None


def test_html_to_text_drops_scripts_styles_comments_and_tags() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<!-- <p>commented</p> --><script>var a = '<p>x</p>';</script>"
        "<p>One&nbsp;&amp; two</p><div>three</div><SCRIPT>nope</SCRIPT>four</body></html>"
    )

    assert html_to_text(html).split() == ["One", "&", "two", "three", "four"]


def test_html_to_text_stops_once_it_has_enough() -> None:
    html = "<p>word</p>" * 100_000

    assert len(html_to_text(html, limit=100)) < 1000


def test_snippet_cuts_at_a_word_and_prefers_text_to_html() -> None:
    text = "Lorem ipsum " * 50

    cut = snippet(text, "<p>other</p>")
    assert len(cut) <= 201 and cut.endswith("…")
    assert cut.removesuffix("…").split()[-1] in ("Lorem", "ipsum")  # no word cut in two
    assert snippet("  \n ", "<p>from <b>html</b></p>") == "from html"
    assert snippet("", None) == ""


def test_parse_headers_reads_the_envelope_of_a_header_block() -> None:
    from mailbox.protocols.mime import parse_headers, parse_message
    from tests.harness import messages

    raw = messages.with_attachments()
    header_block = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"

    envelope, whole = parse_headers(header_block), parse_message(raw)

    assert (envelope.subject, envelope.sender, envelope.date, envelope.message_id) == (
        whole.subject, whole.sender, whole.date, whole.message_id,
    )  # fmt: skip
    assert envelope.attachments == () and envelope.text == ""
