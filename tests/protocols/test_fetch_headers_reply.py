"""fetch_headers()'s reading of its UID FETCH reply, on raw bytes and through a scripted
server. Replies are written as a server sends them and split as imaplib splits them."""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from imapclient.response_parser import parse_fetch_response

from mailbox.protocols import imap
from mailbox.protocols.errors import ActionRefused, ProtocolFailure
from mailbox.protocols.imap_fetch import (
    HEADER_FIELDS,
    HeaderInfo,
    fetch_headers,
    header_infos,
    header_replies,
)
from mailbox.protocols.imap_folders import select
from mailbox.protocols.mime_pool import ParserPool
from mailbox.protocols.types import Credentials, Server
from tests.protocols.fakes import FakeServer
from tests.protocols.support import NONE, policy

HEADER_KEY = b"BODY[HEADER.FIELDS (" + " ".join(HEADER_FIELDS).encode() + b")]"


def imaplib_data(raw: bytes) -> list[bytes | tuple[bytes, bytes]]:
    """Untagged FETCH responses as imaplib's uid("FETCH") returns them: "* " and "FETCH" cut
    ("* 3 FETCH (...)" -> b"3 (...)"), CRLF cut, a literal as (the text up to its {size}, the
    literal) and the rest of its line as the next item."""
    data: list[bytes | tuple[bytes, bytes]] = []
    while raw:
        line, raw = raw.split(b"\r\n", 1)
        seq, _, items = line.removeprefix(b"* ").partition(b" FETCH ")
        line = seq + b" " + items
        while announced := re.search(rb"\{(\d+)\}$", line):
            size = int(announced[1])
            data.append((line, raw[:size]))
            line, raw = raw[size:].split(b"\r\n", 1)
        data.append(line)
    return data


def literal(value: bytes) -> bytes:
    return b"{%d}\r\n%s" % (len(value), value)


GMAIL = (
    rb"* 1 FETCH (X-GM-THRID 1278455344230334000 X-GM-MSGID 1278455344230334865 "
    rb'X-GM-LABELS ("\\Inbox" "\\Sent" "&AOk-t&AOk-" Important) UID 41 MODSEQ (4242) '
    rb'FLAGS (\Seen $Forwarded \Recent) RFC822.SIZE 2048 INTERNALDATE " 4-Mar-2024 09:30:00 -0130" '
    + HEADER_KEY
    + b" "
    + literal(b"Subject: Hi\r\nTo: a@example.test\r\n\r\n")
    + b")\r\n"
)


def test_a_gmail_response_gives_ids_labels_decoded_and_the_header_literal() -> None:
    [info] = header_infos([41], imaplib_data(GMAIL))

    assert info == HeaderInfo(
        uid=41,
        flags=frozenset({"\\Seen", "$Forwarded"}),  # \Recent is the session's, not kept
        size=2048,
        internal_date=dt.datetime(2024, 3, 4, 11, 0, tzinfo=dt.UTC),
        modseq=4242,
        headers=b"Subject: Hi\r\nTo: a@example.test\r\n\r\n",
        gmail_message_id=1278455344230334865,
        gmail_thread_id=1278455344230334000,
        gmail_labels=("\\Inbox", "\\Sent", "été", "Important"),
    )
    assert info.internal_date is not None
    assert info.internal_date.utcoffset() == -dt.timedelta(hours=1, minutes=30)


def test_items_in_any_order_read_the_same() -> None:
    reordered = (
        HEADER_KEY + b" " + literal(b"Subject: Hi\r\nTo: a@example.test\r\n\r\n"),
        b'INTERNALDATE " 4-Mar-2024 09:30:00 -0130" RFC822.SIZE 2048',
        rb"FLAGS (\Recent $Forwarded \Seen) MODSEQ (4242) UID 41",
        rb'X-GM-LABELS ("\\Inbox" "\\Sent" "&AOk-t&AOk-" Important)',
        b"X-GM-MSGID 1278455344230334865 X-GM-THRID 1278455344230334000",
    )
    raw = b"* 1 FETCH (" + b" ".join(reordered) + b")\r\n"

    assert header_infos([41], imaplib_data(raw)) == header_infos([41], imaplib_data(GMAIL))


def test_a_nil_or_quoted_header_item_is_empty_or_its_unescaped_text() -> None:
    raw = (
        rb"* 1 FETCH (UID 7 FLAGS () RFC822.SIZE 10 " + HEADER_KEY + b" NIL)\r\n"
        rb"* 2 FETCH (UID 8 FLAGS () RFC822.SIZE 10 "
        + HEADER_KEY
        + rb' "Subject: a \"b\" \\ c (d) {3}")'
        + b"\r\n"
    )

    nil, quoted = header_infos([7, 8], imaplib_data(raw))

    assert (nil.uid, nil.headers, nil.internal_date, nil.modseq) == (7, b"", None, None)
    assert quoted.headers == b'Subject: a "b" \\ c (d) {3}'


def test_escaped_quotes_and_backslashes_and_literals_among_labels() -> None:
    raw = (
        rb'* 1 FETCH (UID 3 X-GM-LABELS ("a \"quoted\" label" "back\\slash" {11}'
        b'\r\nlit"e(r)al} "" [Gmail]/Starred 2024) FLAGS (\\Seen))\r\n'
    )

    [info] = header_infos([3], imaplib_data(raw))

    assert info.gmail_labels == (
        'a "quoted" label',
        "back\\slash",
        'lit"e(r)al}',
        "",
        "[Gmail]/Starred",
        "2024",
    )


def test_unsolicited_fetches_and_other_messages_are_left_out() -> None:
    raw = (
        rb"* 1 FETCH (UID 3 FLAGS (\Seen) RFC822.SIZE 10)" + b"\r\n"
        rb"* 3 FETCH (FLAGS (\Deleted))" + b"\r\n"  # sequence number 3, no UID: some message
        rb"* 2 FETCH (UID 77 FLAGS (\Flagged))" + b"\r\n"  # not asked for
        rb"* 4 FETCH (MODSEQ (99) UID 5 FLAGS ())" + b"\r\n"
    )
    data = imaplib_data(raw)

    infos = header_infos([5, 3], data)

    assert [(info.uid, info.flags) for info in infos] == [(5, frozenset()), (3, {"\\Seen"})]
    # IMAPClient's own fetch() keying takes the sequence number 3 for UID 3:
    assert parse_fetch_response(data)[3][b"FLAGS"] == (b"\\Deleted",)


def test_no_fetch_response_at_all_is_no_message() -> None:
    assert header_infos([1, 2], [None]) == [] == header_infos([1, 2], [])


# Through imaplib: a scripted server answers UID FETCH with one random reply.


class ScriptedImap:
    """A server for one session: every UID FETCH gets `reply` (or `refusal`), whatever UIDs
    it asks for; UID SEARCH lists `uids`."""

    def __init__(self, reply: bytes, uids: list[int], refusal: bytes = b"") -> None:
        self.reply, self.uids, self.refusal = reply, uids, refusal

    def __call__(self, line: bytes) -> bytes:
        tag, _, rest = line.partition(b" ")
        words = rest.upper().split()
        body = b""
        if words[:2] == [b"UID", b"FETCH"]:
            if self.refusal:
                return tag + b" " + self.refusal + b"\r\n"
            body = self.reply
        elif words[:2] == [b"UID", b"SEARCH"]:
            body = b"* SEARCH " + b" ".join(b"%d" % uid for uid in self.uids) + b"\r\n"
        elif words[0] == b"CAPABILITY":
            body = b"* CAPABILITY IMAP4rev1 X-GM-EXT-1\r\n"
        elif words[0] == b"SELECT":
            body = b"* %d EXISTS\r\n* OK [UIDVALIDITY 9] ok\r\n" % len(self.uids)
        elif words[0] == b"LOGOUT":
            body = b"* BYE bye\r\n"
        return body + tag + b" OK done\r\n"


GREETING = b"* OK [CAPABILITY IMAP4rev1 X-GM-EXT-1] scripted\r\n"
Session = Callable[[ScriptedImap], imap.ImapClient]


@pytest.fixture
def session(fake_server: Callable[..., FakeServer]) -> Iterator[Session]:
    """session(script) -> a client signed in to a server following `script`, INBOX selected."""
    with ExitStack() as sessions:

        def open_with(script: ScriptedImap) -> imap.ImapClient:
            server = fake_server(GREETING, script)
            endpoint = Server(server.host, server.port, NONE)
            credentials = Credentials("ann@example.test", "app-password")
            client = sessions.enter_context(imap.session(endpoint, credentials, policy()))
            select(client, "INBOX")
            return client

        yield open_with


def test_a_refused_fetch_is_action_refused_in_the_servers_words(session: Session) -> None:
    client = session(ScriptedImap(b"", [1, 2], refusal=b"NO [UNAVAILABLE] try later"))

    with pytest.raises(ActionRefused) as refused:
        list(fetch_headers(client, "all"))

    assert refused.value.command == "UID FETCH"
    assert refused.value.server_reply == "[UNAVAILABLE] try later"


def test_a_reply_a_parsing_helper_cannot_read_fails_in_the_worker_as_protocol_failure(
    session: Session,
) -> None:
    """A sync hands each reply to its parsing helper (imap_envelopes); one that neither our
    reader nor IMAPClient's can follow comes back unread, and the worker's own reading raises
    the typed error instead of storing half of it."""
    unbalanced = rb"* 1 FETCH (UID 3 FLAGS (\Seen RFC822.SIZE 10" + b"\r\n"
    client = session(ScriptedImap(unbalanced, [3]))
    [reply] = header_replies(client, "all")

    with ParserPool(1) as pool:
        assert pool.submit("envelopes", [reply]).result() == [None]
        assert pool.helpers[0].alive  # one bad reply does not cost the helper
    with pytest.raises(ProtocolFailure):
        list(fetch_headers(client, "all"))
