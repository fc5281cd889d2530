"""Gmail's extensions (X-GM-MSGID, X-GM-THRID, X-GM-LABELS, "[Gmail]/..." folders), which a
real Dovecot cannot produce: a tiny scripted IMAP server on 127.0.0.1, reached through the
normal `imap.session()` with security none. The only seam is the socket."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from mailbox.protocols import imap
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_fetch import HEADER_FIELDS, fetch_headers
from mailbox.protocols.imap_folders import list_folders, select
from mailbox.protocols.types import Credentials, Server
from tests.harness import messages
from tests.protocols.fakes import FakeServer
from tests.protocols.support import NONE, policy

CAPABILITIES = (
    b"IMAP4rev1 UNSELECT IDLE NAMESPACE ID CHILDREN X-GM-EXT-1 UIDPLUS ENABLE MOVE CONDSTORE "
    b"SPECIAL-USE"
)
GREETING = b"* OK [CAPABILITY " + CAPABILITIES + b"] Gimap ready for requests\r\n"
LISTING = [
    b'(\\HasNoChildren) "/" "INBOX"',
    b'(\\HasChildren \\Noselect) "/" "[Gmail]"',
    b'(\\All \\HasNoChildren) "/" "[Gmail]/All Mail"',
    b'(\\HasNoChildren \\Sent) "/" "[Gmail]/Sent Mail"',
    b'(\\HasNoChildren \\Junk) "/" "[Gmail]/Spam"',
    b'(\\HasNoChildren \\Trash) "/" "[Gmail]/Trash"',
    b'(\\HasNoChildren) "/" "&AMk-quipe"',
]
SHARED_ID, THREAD_ID = 1278455344230334865, 1278455344230334000
RAW = messages.thread(2)


@dataclass(frozen=True)
class GmailMessage:
    uid: int
    msgid: int
    labels: bytes
    raw: bytes


FOLDERS = {
    "INBOX": [GmailMessage(5, SHARED_ID, b'(\\Important "&AMk-quipe")', RAW[0])],
    "[Gmail]/All Mail": [
        GmailMessage(41, SHARED_ID, b'(\\Inbox \\Important "&AMk-quipe")', RAW[0]),
        GmailMessage(42, SHARED_ID + 1, b"()", RAW[1]),
    ],
}


class FakeGmail:
    """Answers one command line at a time, as Gmail would for what the sync sends."""

    def __init__(self) -> None:
        self.folder = "INBOX"

    def __call__(self, line: bytes) -> bytes:
        tag, _, rest = line.partition(b" ")
        words = rest.split(b" ")
        verb = words[0].upper()
        if verb == b"UID":
            return self._uid(words[1].upper(), words[2], rest) + tag + b" OK Success\r\n"
        body = {
            b"CAPABILITY": b"* CAPABILITY " + CAPABILITIES + b"\r\n",
            b"ENABLE": b"* ENABLED CONDSTORE\r\n",
            b"LIST": b"".join(b"* LIST " + entry + b"\r\n" for entry in LISTING),
            b"LOGOUT": b"* BYE LOGOUT Requested\r\n",
        }.get(verb, b"")
        if verb in (b"SELECT", b"EXAMINE"):
            self.folder = rest.split(b" ", 1)[1].strip(b'"').decode()
            body = self._selected()
        return body + tag + b" OK Success\r\n"

    def _selected(self) -> bytes:
        held = FOLDERS.get(self.folder, [])
        return (
            b"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen)\r\n"
            b"* OK [UIDVALIDITY 11] UIDs valid.\r\n"
            + f"* {len(held)} EXISTS\r\n".encode()
            + f"* OK [UIDNEXT {max((m.uid for m in held), default=0) + 1}] next\r\n".encode()
            + b"* OK [HIGHESTMODSEQ 4300]\r\n"
        )

    def _uid(self, command: bytes, uids: bytes, rest: bytes) -> bytes:
        held = FOLDERS.get(self.folder, [])
        if command == b"SEARCH":
            return b"* SEARCH " + b" ".join(str(m.uid).encode() for m in held) + b"\r\n"
        wanted = {int(uid) for uid in uids.split(b",")}
        assert b"X-GM-MSGID X-GM-THRID X-GM-LABELS" in rest
        return b"".join(
            self._fetched(seq, m) for seq, m in enumerate(held, start=1) if m.uid in wanted
        )

    def _fetched(self, seq: int, message: GmailMessage) -> bytes:
        fields = b"(" + " ".join(HEADER_FIELDS).encode() + b")"
        headers = message.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        return (
            f"* {seq} FETCH (X-GM-THRID {THREAD_ID} X-GM-MSGID {message.msgid} ".encode()
            + b"X-GM-LABELS " + message.labels
            + f" UID {message.uid} MODSEQ (4242) FLAGS (\\Seen) ".encode()
            + f"RFC822.SIZE {len(message.raw)} ".encode()
            + b'INTERNALDATE "04-Mar-2024 09:30:00 +0000" BODY[HEADER.FIELDS ' + fields
            + f"] {{{len(headers)}}}\r\n".encode() + headers + b")\r\n"
        )  # fmt: skip


@pytest.fixture
def gmail(fake_server: Callable[[bytes, Callable[[bytes], bytes]], FakeServer]) -> FakeServer:
    return fake_server(GREETING, FakeGmail())


@pytest.fixture
def client(gmail: FakeServer) -> Iterator[ImapClient]:
    server = Server(gmail.host, gmail.port, NONE)
    with imap.session(server, Credentials("ann@gmail.test", "app-password"), policy()) as client:
        yield client


def test_the_same_message_under_two_labels_carries_one_gmail_id(client: ImapClient) -> None:
    select(client, "INBOX")
    [[in_inbox]] = fetch_headers(client, "all")
    select(client, "[Gmail]/All Mail")
    [[other, in_all_mail]] = fetch_headers(client, "all")

    assert (in_inbox.uid, in_all_mail.uid, other.uid) == (5, 41, 42)
    assert in_inbox.gmail_message_id == in_all_mail.gmail_message_id == SHARED_ID
    assert other.gmail_message_id == SHARED_ID + 1
    assert in_inbox.gmail_thread_id == THREAD_ID
    assert in_all_mail.gmail_labels == ("\\Inbox", "\\Important", "Équipe")
    assert in_inbox.modseq == 4242 and in_inbox.flags == {"\\Seen"}
    assert in_inbox.headers.startswith(b"From: Alice Example")


def test_gmail_folders_get_their_roles_and_decoded_names(client: ImapClient) -> None:
    folders = {folder.name: folder for folder in list_folders(client)}

    assert folders["[Gmail]/Sent Mail"].role == "sent"
    assert folders["[Gmail]/All Mail"].role == "all"
    assert not folders["[Gmail]"].is_selectable
    assert folders["Équipe"].raw_name == "&AMk-quipe"
