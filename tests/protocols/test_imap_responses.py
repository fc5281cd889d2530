"""fetch_responses() reads a FETCH reply as IMAPClient does, or leaves it to IMAPClient."""

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from imapclient.datetime_util import parse_to_datetime
from imapclient.response_parser import parse_fetch_response
from imapclient.response_types import BodyData, Envelope

from mailbox.protocols.imap_responses import fetch_responses, internal_date
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser

Item = bytes | tuple[bytes, bytes]


def imaplib_data(wire: bytes) -> list[Item]:
    """Untagged FETCH responses as imaplib's uid("FETCH") returns them: "* " and "FETCH" cut,
    CRLF cut, a literal as (the text up to its {size}, the literal), the rest of the line
    after it as the next item."""
    data: list[Item] = []
    while wire:
        line, wire = wire.split(b"\r\n", 1)
        seq, _, rest = line.removeprefix(b"* ").partition(b" FETCH ")
        line = seq + b" " + rest
        while announced := re.search(rb"\{(\d+)\}$", line):
            size = int(announced[1])
            data.append((line, wire[:size]))
            line, wire = wire[size:].split(b"\r\n", 1)
        data.append(line)
    return data


def literal(value: bytes) -> bytes:
    return b"{%d}\r\n%s" % (len(value), value)


def comparable(value: Any) -> Any:
    """Datetimes as (wall clock, offset): equal instants in different offsets differ here,
    and IMAPClient's FixedOffset compares with datetime.timezone."""
    if isinstance(value, dt.datetime):
        return (value.replace(tzinfo=None), value.utcoffset())
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(comparable(item) for item in value)
    return value


def imapclient_reading(data: list[Item]) -> dict[int, dict[bytes, Any]]:
    parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=False)  # type: ignore[arg-type]
    return {seq: dict(attributes) for seq, attributes in parsed.items()}


def assert_read_as_imapclient_does(data: list[Item]) -> None:
    expected = imapclient_reading(data)
    got = fetch_responses(data)
    assert got is not None
    assert got == expected
    assert comparable(got) == comparable(expected)


HEADERS = (
    b"From: Alice Example <alice@example.test>\r\n"
    b"To: bob@example.test,\r\n carol@example.test\r\n"
    b'Subject: =?utf-8?q?Caf=C3=A9?= (draft) {3} "quoted"\r\n'
    b"Message-ID: <1@example.test>\r\n\r\n"
)
FIELDS = b"BODY[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES)]"
TRAP = b"x)\r\n* 2 FETCH (UID 99 FLAGS (\\Deleted))\r\n{5}\r\n"  # looks like more responses

REPLIES: dict[str, bytes] = {
    "header fetch": (
        b'* 1 FETCH (UID 101 RFC822.SIZE 2345 FLAGS (\\Seen) INTERNALDATE "17-Jul-2024 '
        b'02:44:25 +0200" ' + FIELDS + b" " + literal(HEADERS) + b")\r\n"
        b'* 2 FETCH (UID 102 RFC822.SIZE 17 FLAGS () INTERNALDATE "18-Jul-2024 10:00:00 '
        b'+0000" ' + FIELDS + b" " + literal(b"Subject: x\r\n\r\n") + b")\r\n"
    ),
    "flags after the literal": (
        b"* 2 FETCH (UID 102 " + FIELDS + b" " + literal(HEADERS) + b" FLAGS (\\Seen "
        b"\\Answered $Forwarded) MODSEQ (77))\r\n"
    ),
    "unsolicited flags merged by sequence number": (
        b"* 3 FETCH (FLAGS (\\Deleted))\r\n"
        b"* 3 FETCH (UID 103 FLAGS (\\Seen) RFC822.SIZE 10)\r\n"
        b"* 7 FETCH (FLAGS (\\Flagged))\r\n"
        b"* 3 FETCH (FLAGS (\\Seen \\Answered))\r\n"
    ),
    "gmail labels": (
        b"* 1 FETCH (X-GM-THRID 1278455344230334000 X-GM-MSGID 1278455344230334865 "
        b'X-GM-LABELS (\\Inbox "\\\\Sent" "&AOk-t&AOk-" Important "Project \\"Alpha\\" 2" '
        b'"with  two spaces" 2024 "2025" "back\\\\slash \\\\\\"edge" "") UID 41 '
        b"FLAGS (\\Seen)) \r\n"
    ),
    "gmail ids beyond 64 bits": (
        b"* 9 FETCH (UID 4294967295 X-GM-MSGID 18446744073709551616 "
        b"X-GM-THRID 18446744073709551615 MODSEQ (9223372036854775807))\r\n"
    ),
    "modseq": b"* 4 FETCH (UID 8 MODSEQ (12345678901234) FLAGS (\\Seen))\r\n",
    "nil values": (
        b"* 5 FETCH (UID 9 INTERNALDATE NIL BODY[1.MIME] NIL X-GM-LABELS () "
        b"BODY[HEADER.FIELDS (X-NONE)] " + literal(b"\r\n") + b")\r\n"
    ),
    "partial body": b"* 6 FETCH (UID 10 BODY[]<0> " + literal(b"From: a\r\n\r\nhi") + b")\r\n",
    "partial body with a later origin": (
        b"* 6 FETCH (UID 10 BODY[TEXT]<1024> " + literal(b"tail") + b" FLAGS (\\Seen))\r\n"
    ),
    "space-padded day": b'* 1 FETCH (UID 1 INTERNALDATE " 4-Mar-2024 09:30:00 -0130")\r\n',
    "offsets east and west": (
        b'* 1 FETCH (UID 1 INTERNALDATE "01-Jan-2024 00:00:00 +0530")\r\n'
        b'* 2 FETCH (UID 2 INTERNALDATE "31-Dec-2023 23:59:59 -0700")\r\n'
        b'* 3 FETCH (UID 3 INTERNALDATE "29-Feb-2024 12:00:00 -0000")\r\n'
    ),
    "lowercase item names": (
        b'* 4 FETCH (uid 12 flags (\\seen) rfc822.size 44 internaldate "01-jan-2024 '
        b'00:00:00 +0000" body[header.fields (from subject)] ' + literal(HEADERS) + b")\r\n"
    ),
    "two literals in one response": (
        b"* 1 FETCH (UID 3 BODY[HEADER] "
        + literal(HEADERS)
        + b" BODY[TEXT] "
        + literal(b"Hello (world) {7}\r\n")
        + b" FLAGS (\\Seen))\r\n"
    ),
    "a literal that looks like more responses": (
        b"* 1 FETCH (UID 3 BODY[] " + literal(TRAP) + b")\r\n* 2 FETCH (UID 4 FLAGS ())\r\n"
    ),
    "an empty literal": b"* 1 FETCH (UID 3 BODY[] " + literal(b"") + b")\r\n",
    "a literal inside a list": (
        b"* 1 FETCH (UID 3 X-GM-LABELS (" + literal(b"a (b) c") + b' "d"))\r\n'
    ),
    "nested lists": b'* 1 FETCH (UID 3 X-EXTRA (1 (2 ("three" NIL)) ()))\r\n',
    "an empty response": b"* 1 FETCH ()\r\n",
}


@pytest.mark.parametrize("wire", REPLIES.values(), ids=REPLIES.keys())
def test_a_plain_reply_reads_as_imapclient_reads_it(wire: bytes) -> None:
    assert_read_as_imapclient_does(imaplib_data(wire))


def test_no_responses_read_as_nothing() -> None:
    assert fetch_responses([]) == imapclient_reading([]) == {}


def test_imaplibs_none_for_no_responses_gives_nothing_or_goes_to_imapclient() -> None:
    assert fetch_responses([None]) in (None, {})  # type: ignore[list-item]


def test_the_example_values_come_out_as_the_sync_reads_them() -> None:
    read = fetch_responses(imaplib_data(REPLIES["gmail labels"]))

    assert read is not None
    assert read[1][b"X-GM-LABELS"] == (
        b"\\Inbox",
        b"\\Sent",
        b"&AOk-t&AOk-",
        b"Important",
        b'Project "Alpha" 2',
        b"with  two spaces",
        2024,
        b"2025",
        b'back\\slash \\"edge',
        b"",
    )
    assert read[1][b"X-GM-MSGID"] == 1278455344230334865


def test_an_unsolicited_fetch_keeps_the_uid_and_takes_the_last_flags() -> None:
    read = fetch_responses(imaplib_data(REPLIES["unsolicited flags merged by sequence number"]))

    assert read == {
        3: {b"SEQ": 3, b"UID": 103, b"FLAGS": (b"\\Seen", b"\\Answered"), b"RFC822.SIZE": 10},
        7: {b"SEQ": 7, b"FLAGS": (b"\\Flagged",)},
    }


# Where a reading of its own would differ from IMAPClient's (found by these tests, then mended).
KNOWN_DIFFERENCES: dict[str, tuple[bytes, str]] = {
    "a lowercase nil atom": (
        b"* 1 FETCH (UID 3 X-GM-LABELS (nil Nil NIL))\r\n",
        "IMAPClient reads only NIL as None (a Gmail label named nil stays b'nil'); "
        "_atom() upper-cases it",
    ),
    "a number with leading zeros": (
        b"* 1 FETCH (UID 3 X-GM-LABELS (007 0 00))\r\n",
        "IMAPClient keeps 007 and 00 as bytes; _atom() makes them 7 and 0",
    ),
    "a percent sign in an atom": (
        b"* 1 FETCH (UID 3 FLAGS (\\Seen 50%off))\r\n",
        "IMAPClient's lexer splits at %, giving b'50', b'%', b'off'",
    ),
    "february 31st": (
        b'* 1 FETCH (UID 1 INTERNALDATE "31-Feb-2024 09:30:00 +0000")\r\n',
        "not a date: IMAPClient reads it as None",
    ),
    "a date that is not one": (
        b'* 1 FETCH (UID 1 INTERNALDATE "not a date")\r\n',
        "IMAPClient reads it as None",
    ),
    "an unknown month": (
        b'* 1 FETCH (UID 1 INTERNALDATE "01-Foo-2024 09:30:00 +0000")\r\n',
        "IMAPClient reads it as None",
    ),
    "keywords and the star flag": (
        b"* 1 FETCH (UID 3 FLAGS (\\Seen $Junk NonJunk $label1 \\*))\r\n",
        "\\* belongs in PERMANENTFLAGS, not in a message's FLAGS",
    ),
    "a tab between flags": (
        b"* 1 FETCH (UID 3 FLAGS (\\Seen\t\\Draft))\r\n",
        "no atom holds a control character: IMAPClient splits the list there",
    ),
}


@pytest.mark.parametrize(
    "wire",
    [pytest.param(wire, id=name) for name, (wire, reason) in KNOWN_DIFFERENCES.items()],
)
def test_an_odd_value_reads_as_imapclient_reads_it_or_goes_to_it(wire: bytes) -> None:
    """Either the same value or None (IMAPClient then reads it), never another value."""
    data = imaplib_data(wire)
    got = fetch_responses(data)
    assert got is None or comparable(got) == comparable(imapclient_reading(data))


LENIENT_DATES: dict[str, bytes] = {
    "a zone name": b"17-Jul-1996 02:44:25 GMT",
    "a two-digit year": b"17-Jul-96 02:44:25 +0000",
    "a one-digit hour": b"17-Jul-1996 2:44:25 +0000",
    "an offset of 99 hours": b"17-Jul-1996 02:44:25 +9900",
}


@pytest.mark.parametrize(
    "value",
    [pytest.param(value, id=name) for name, value in LENIENT_DATES.items()],
)
def test_a_non_rfc_3501_date_reads_as_imapclient_reads_it(value: bytes) -> None:
    data = [b'1 (UID 1 INTERNALDATE "' + value + b'")']
    got = fetch_responses(data)
    assert got is None or comparable(got) == comparable(imapclient_reading(data))


# Replies fetch_responses() leaves to IMAPClient: what IMAPClient does with them, or None when
# it reads them as values the quick reader could have given but does not need to.
ENVELOPE = (
    b'ENVELOPE ("Mon, 1 Jan 2024 00:00:00 +0000" "Hi" (("Alice" NIL "alice" "example.test")) '
    b'(("Alice" NIL "alice" "example.test")) (("Alice" NIL "alice" "example.test")) '
    b'(("Bob" NIL "bob" "example.test")) NIL NIL NIL "<1@example.test>")'
)
BODYSTRUCTURE = b'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 3 1)'

Outcome = Callable[[dict[int, dict[bytes, Any]]], bool] | type[Exception] | None


def _has(kind: type) -> Callable[[dict[int, dict[bytes, Any]]], bool]:
    def check(read: dict[int, dict[bytes, Any]]) -> bool:
        return any(isinstance(value, kind) for values in read.values() for value in values.values())

    return check


NOT_PLAIN: dict[str, tuple[list[Item], Outcome]] = {
    "an envelope": ([b"1 (UID 5 " + ENVELOPE + b")"], _has(Envelope)),
    "a bodystructure": ([b"1 (UID 5 BODYSTRUCTURE " + BODYSTRUCTURE + b")"], _has(BodyData)),
    "a body structure without extensions": (
        [b"1 (UID 5 BODY " + BODYSTRUCTURE + b")"],
        _has(BodyData),
    ),
    "a lowercase bodystructure": (
        [b"1 (UID 5 bodystructure " + BODYSTRUCTURE + b")"],
        _has(BodyData),
    ),
    "an envelope after a literal": (
        [(b"1 (UID 5 BODY[HEADER] {4}", b"a\r\n\r"), b" " + ENVELOPE + b")"],
        _has(Envelope),
    ),
    "a reply that ends inside a response": ([b"1 (UID 5 FLAGS (\\Seen)"], Exception),
    "a reply that ends inside a literal's response": (
        [(b"1 (UID 5 BODY[] {3}", b"abc")],
        Exception,
    ),
    "a literal longer than announced": ([(b"1 (UID 5 BODY[] {3}", b"abcd"), b")"], Exception),
    "a literal shorter than announced": ([(b"1 (UID 5 BODY[] {3}", b"ab"), b")"], Exception),
    "a literal nobody announced": ([(b"1 (UID 5 BODY[] x", b"abc"), b")"], Exception),
    "an announced literal imaplib did not give": ([b"1 (UID 5 BODY[] {3}", b")"], Exception),
    "junk": ([b"garbage"], Exception),
    "no list after the sequence number": ([b"1 UID 5"], Exception),
    "an odd number of values": ([b"1 (UID 5 FLAGS)"], Exception),
    "a uid that is not a number": ([b"1 (UID abc FLAGS ())"], Exception),
    "a value where a name belongs": ([b"1 (5 UID)"], Exception),
    "a quote inside an atom": ([b'1 (UID 5 X-A x"y")'], Exception),
    "a second response in the same item": ([b"1 (UID 5) 2 (UID 6)"], None),
    "junk after the closing parenthesis": ([b"1 (UID 5 FLAGS ()) junk"], None),
    "text after the closing parenthesis of a literal's response": (
        [(b"1 (UID 5 BODY[] {3}", b"abc"), b") 2 (UID 6)"],
        None,
    ),
    "an escape IMAP does not have": ([b'1 (UID 5 X-A "a\\nb")'], None),
}


@pytest.mark.parametrize(("data", "imapclient"), NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_a_reply_that_is_not_plain_goes_to_imapclient(
    data: list[Item], imapclient: Outcome
) -> None:
    assert fetch_responses(data) is None
    if isinstance(imapclient, type):
        with pytest.raises(imapclient):
            parse_fetch_response(data, normalise_times=False, uid_is_key=False)  # type: ignore[arg-type]
    elif imapclient is not None:
        assert imapclient(imapclient_reading(data))


def test_a_reply_imapclient_refuses_is_not_read_as_values() -> None:
    data: list[Item] = [b"1 (UID 5 INTERNALDATE 12)"]
    with pytest.raises(Exception):  # noqa: B017 - IMAPClient raises AttributeError here
        parse_fetch_response(data, normalise_times=False, uid_is_key=False)  # type: ignore[arg-type]
    assert fetch_responses(data) is None


def test_a_value_that_is_not_bytes_goes_to_imapclient() -> None:
    assert fetch_responses([b"1 (UID 5)", None]) is None  # type: ignore[list-item]


def at(offset: dt.timedelta, *wall_clock: int) -> dt.datetime:
    return dt.datetime(*wall_clock, tzinfo=dt.timezone(offset))  # type: ignore[misc]


HOURS, MINUTES = dt.timedelta(hours=1), dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"17-Jul-1996 02:44:25 +0000", at(0 * HOURS, 1996, 7, 17, 2, 44, 25)),
        (b"17-Jul-1996 02:44:25 -0700", at(-7 * HOURS, 1996, 7, 17, 2, 44, 25)),
        (b"01-Jan-2024 23:59:59 +0530", at(5 * HOURS + 30 * MINUTES, 2024, 1, 1, 23, 59, 59)),
        (b" 4-Mar-2024 09:30:00 -0130", at(-90 * MINUTES, 2024, 3, 4, 9, 30)),
        (b"29-feb-2024 00:00:00 +1400", at(14 * HOURS, 2024, 2, 29)),
    ],
)
def test_an_internal_date_keeps_its_wall_clock_and_offset(
    value: bytes, expected: dt.datetime
) -> None:
    read = internal_date(value)

    assert read is not None
    assert (read.replace(tzinfo=None), read.utcoffset()) == (
        expected.replace(tzinfo=None),
        expected.utcoffset(),
    )
    assert comparable(read) == comparable(parse_to_datetime(value, normalise=False))


@pytest.mark.parametrize(
    "value",
    [
        b"17-Foo-1996 02:44:25 +0000",
        b"31-Feb-2024 02:44:25 +0000",
        b"29-Feb-2023 02:44:25 +0000",
        b"17-Jul-1996 24:00:00 +0000",
        b"17-Jul-1996 02:44:25",
        b"17-Jul-1996 02:44:25 +0000 trailing",
        b"",
        "17-Jul-1996 02:44:25 +0000",
        None,
        12,
    ],
    ids=repr,
)
def test_an_internal_date_that_is_not_one_is_none(value: object) -> None:
    assert internal_date(value) is None


def test_internal_dates_with_the_same_offset_share_a_zone() -> None:
    first = internal_date(b"01-Jan-2024 00:00:00 +0530")
    second = internal_date(b"02-Jan-2024 00:00:00 +0530")

    assert first is not None and second is not None
    assert first.tzinfo is second.tzinfo


HEADER_FETCH = "(UID FLAGS MODSEQ RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"
SEVERAL_LITERALS = "(UID BODY.PEEK[HEADER] FLAGS BODY.PEEK[TEXT]<0.100>)"


def test_dovecots_replies_read_as_imapclient_reads_them(
    mail_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()
    seeded = [*messages.volume(20), messages.with_attachments(), messages.non_ascii_headers()]
    mail_servers.seed(user.address, seeded)

    with mail_servers.imap(user.address) as client:
        client.select("INBOX")
        client.uid("STORE", "1:5", "+FLAGS", "(\\Seen $Forwarded)")
        client.uid("STORE", "3,21", "+FLAGS", "(\\Flagged \\Answered)")
        replies = [
            client.uid("FETCH", "1:*", items)[1]
            for items in (HEADER_FETCH, SEVERAL_LITERALS, "(UID BODY.PEEK[])")
        ]

    for data in replies:
        assert_read_as_imapclient_does(data)
    headers, _, bodies = (fetch_responses(data) for data in replies)
    assert headers is not None and bodies is not None
    flags = set(headers[3][b"FLAGS"]) - {b"\\Recent"}
    assert flags == {b"\\Seen", b"$Forwarded", b"\\Flagged", b"\\Answered"}
    assert [bodies[seq][b"BODY[]"] for seq in sorted(bodies)] == seeded
    assert [bodies[seq][b"UID"] for seq in sorted(bodies)] == list(range(1, len(seeded) + 1))
