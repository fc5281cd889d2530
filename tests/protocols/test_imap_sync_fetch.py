"""Fetching headers and bodies from the real Dovecot: order, bytes, memory, a cut connection."""

import base64
import hashlib
import random
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from mailbox.protocols import imap
from mailbox.protocols.errors import MessageMissing, ProtocolFailure
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_fetch import (
    HEADER_FIELDS,
    fetch_bodies,
    fetch_body_to,
    fetch_headers,
    header_replies,
    read_header_reply,
)
from mailbox.protocols.imap_folders import select
from mailbox.protocols.imap_sync import flags_of
from mailbox.protocols.types import Server
from tests.harness import messages
from tests.harness.faultproxy import FaultProxy
from tests.harness.mailservers import MailServers, MailUser
from tests.protocols.support import IMAP, TLS, credentials, policy, server_for

SEEN, FLAGGED, ANSWERED = "\\Seen", "\\Flagged", "\\Answered"


@pytest.fixture
def user(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user()


@pytest.fixture
def client(mail_servers: MailServers, user: MailUser) -> Iterator[ImapClient]:
    server = server_for(mail_servers, IMAP, TLS)
    with imap.session(server, credentials(user), policy()) as client:
        yield client


def header_fields(raw: bytes, names: tuple[str, ...] = HEADER_FIELDS) -> bytes:
    """What HEADER.FIELDS returns: the named fields, folded lines and all, then a blank line."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    wanted = {name.lower().encode() for name in names}
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower() in wanted]
    return b"".join(field + b"\r\n" for field in kept) + b"\r\n"


def test_headers_come_newest_first_with_uids_flags_and_raw_fields(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    seeded = list(messages.every_kind().values())[:5]
    flags = [[SEEN], [SEEN, FLAGGED], [], [ANSWERED, SEEN], []]
    mail_servers.seed(user.address, seeded, per_message_flags=flags)
    state = select(client, "INBOX", readonly=True)

    batches = list(fetch_headers(client, "all", batch=2))

    assert [[info.uid for info in batch] for batch in batches] == [[5, 4], [3, 2], [1]]
    infos = {info.uid: info for batch in batches for info in batch}
    for uid, raw in enumerate(seeded, start=1):
        info = infos[uid]
        assert info.flags == frozenset(flags[uid - 1])
        assert info.size == len(raw)
        assert info.headers == header_fields(raw)
        assert info.internal_date is not None and info.internal_date.tzinfo is not None
        assert info.modseq is not None and info.modseq <= state.highestmodseq
        assert info.gmail_message_id is None and info.gmail_labels == ()


def test_a_smaller_first_batch_brings_the_newest_sooner_then_full_batches(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    mail_servers.seed(user.address, list(messages.volume(6)))
    select(client, "INBOX", readonly=True)

    replies = list(header_replies(client, "all", batch=3, first=1))

    assert [reply.uids for reply in replies] == [[6], [5, 4, 3], [2, 1]]
    assert [[i.uid for i in read_header_reply(r)] for r in replies] == [[6], [5, 4, 3], [2, 1]]
    assert list(header_replies(client, [], batch=3, first=1)) == []


def test_a_2000_message_folder_arrives_whole_newest_first_in_batches(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    mail_servers.seed(user.address, list(messages.volume(2000)))
    select(client, "INBOX", readonly=True)

    batches = list(fetch_headers(client, "all", batch=500))

    assert [len(batch) for batch in batches] == [500] * 4
    infos = [info for batch in batches for info in batch]
    assert [info.uid for info in infos] == list(range(2000, 0, -1))
    assert all(f"<vol.0.{info.uid - 1}@".encode() in info.headers for info in infos)


def test_headers_of_chosen_uids_leave_out_the_missing_ones(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    mail_servers.seed(user.address, messages.thread(3))
    select(client, "INBOX", condstore=False)

    batches = list(fetch_headers(client, [1, 3, 99]))

    assert [[info.uid for info in batch] for batch in batches] == [[3, 1]]
    assert all(info.modseq is None for info in batches[0])


def test_bodies_are_the_seeded_bytes_and_stay_unseen(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    seeded = list(messages.every_kind().values())
    mail_servers.seed(user.address, seeded)
    select(client, "INBOX")

    bodies = dict(fetch_bodies(client, range(len(seeded), 0, -1), batch=3))

    assert bodies == {uid: raw for uid, raw in enumerate(seeded, start=1)}
    assert all(SEEN not in m.flags for m in mail_servers.messages(user.address))


def _big_message(size: int) -> bytes:
    """A message with a base64 attachment, `size` bytes long or a little more."""
    head = messages.plain_text(messages.Envelope(subject="Big scan"), body="See attached.\n")
    payload = random.Random(5).randbytes(size * 3 // 4)
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return head.replace(b"Content-Type: text/plain", b"X-Big: yes\r\nContent-Type: text/plain") + (
        b"\r\n" + encoded
    )


def test_a_20_mb_message_streams_to_a_file_in_bounded_memory(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    raw = _big_message(20 * 1024 * 1024)
    mail_servers.seed(user.address, [raw])
    select(client, "INBOX")

    with tempfile.TemporaryFile() as sink:
        tracemalloc.start()
        try:
            written = fetch_body_to(client, 1, sink)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        sink.seek(0)
        digest = hashlib.sha256(sink.read()).hexdigest()

    assert written == len(raw)
    assert digest == hashlib.sha256(raw).hexdigest()
    assert peak < len(raw) / 4, f"peak {peak / 2**20:.1f} MiB"  # a few 1 MiB chunks at most
    assert flags_of(client, [1]) == {1: frozenset()}  # PEEK: still unseen


def test_streaming_a_missing_message_raises_message_missing(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    mail_servers.seed(user.address, [messages.plain_text()])
    select(client, "INBOX")

    with tempfile.TemporaryFile() as sink, pytest.raises(MessageMissing):
        fetch_body_to(client, 7, sink)


@pytest.mark.parametrize("fetch", ["bodies", "body_to", "headers"])
def test_a_connection_cut_inside_a_fetch_literal_is_a_typed_error(
    fetch: str,
    mail_servers: MailServers,
    user: MailUser,
    fault_proxy: Callable[..., FaultProxy],
) -> None:
    mail_servers.seed(user.address, [messages.with_attachments(), messages.plain_text()])
    target = server_for(mail_servers, IMAP, TLS)
    proxy = fault_proxy(target.host, target.port, tls="implicit")
    proxy.cut_in_fetch_literal(after=100)

    got: list[object] = []
    with (
        imap.session(Server(proxy.host, proxy.port, TLS), credentials(user), policy()) as client,
        pytest.raises(ProtocolFailure),
    ):
        select(client, "INBOX")
        if fetch == "bodies":
            got.extend(fetch_bodies(client, [1, 2]))
        elif fetch == "headers":
            got.extend(fetch_headers(client, "all"))
        else:
            with tempfile.TemporaryFile() as sink:
                got.append(fetch_body_to(client, 1, sink, chunk=4096))

    assert proxy.faults_fired == 1
    assert got == []  # nothing short passed off as whole
