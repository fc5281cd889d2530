"""Two-way actions on the real Dovecot, each checked on the server with the harness's own
imaplib connection (`mail_servers.messages()`)."""

import datetime as dt
from collections.abc import Callable, Iterator

import pytest

from mailbox.protocols import imap
from mailbox.protocols.errors import FolderMissing
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_actions import (
    DELETED,
    FLAGGED,
    SEEN,
    append,
    check_flags,
    delete_permanently,
    empty_folder,
    mark_all_read,
    move,
    set_flags,
)
from mailbox.protocols.imap_fetch import fetch_headers
from mailbox.protocols.imap_folders import select
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser
from tests.protocols.support import IMAP, TLS, credentials, policy, server_for

SEEDED = messages.thread(4)


@pytest.fixture
def user(mail_user: Callable[..., MailUser], mail_servers: MailServers) -> MailUser:
    user = mail_user()
    mail_servers.seed(user.address, SEEDED, per_message_flags=[[SEEN], [], [], [FLAGGED]])
    return user


@pytest.fixture
def client(mail_servers: MailServers, user: MailUser) -> Iterator[ImapClient]:
    server = server_for(mail_servers, IMAP, TLS)
    with imap.session(server, credentials(user), policy()) as client:
        yield client


def flags_on_server(servers: MailServers, user: MailUser, folder: str = "INBOX") -> dict:
    """{uid: flags} as the server keeps them (without the per-session \\Recent)."""
    return {m.uid: m.flags - {"\\Recent"} for m in servers.messages(user.address, folder)}


def without(client: ImapClient, *names: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """This connection believes the server lacks `names` (Dovecot has MOVE and UIDPLUS)."""
    offered = client.capabilities()
    hidden = {name.encode() for name in names}
    monkeypatch.setattr(
        client, "capabilities", lambda: tuple(c for c in offered if c not in hidden)
    )


def test_flags_are_added_and_removed(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    select(client, "INBOX")

    result = set_flags(client, [1, 2, 3], add=[FLAGGED, "$Important"], remove=[SEEN])

    assert result.failed == ()
    assert flags_on_server(mail_servers, user) == {
        1: {FLAGGED, "$Important"},
        2: {FLAGGED, "$Important"},
        3: {FLAGGED, "$Important"},
        4: {FLAGGED},
    }


def test_a_conditional_change_spares_a_message_changed_elsewhere(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    state = select(client, "INBOX")
    assert state.highestmodseq is not None
    with mail_servers.imap(user.address) as other:  # another program reads message 2 meanwhile
        other.select("INBOX")
        other.uid("STORE", "2", "+FLAGS", "(\\Seen)")

    result = set_flags(
        client, [2, 3], add=[FLAGGED], remove=[SEEN], unchanged_since=state.highestmodseq
    )

    assert result.failed == (2,)
    assert set(result.modseqs) == {3} and result.modseqs[3] > state.highestmodseq
    assert flags_on_server(mail_servers, user)[2] == {SEEN}
    assert flags_on_server(mail_servers, user)[3] == {FLAGGED}


def test_a_flag_that_is_not_an_atom_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="not an IMAP flag"):
        check_flags(["\\Seen) (\\Deleted"])


@pytest.mark.parametrize(
    "capabilities", [(), ("MOVE",), ("MOVE", "UIDPLUS")], ids=["move", "copy", "no-uidplus"]
)
def test_move_maps_old_uids_to_new_ones(
    capabilities: tuple[str, ...],
    client: ImapClient,
    mail_servers: MailServers,
    user: MailUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With MOVE; else COPY, \\Deleted and UID EXPUNGE; else a guarded EXPUNGE."""
    without(client, *capabilities, monkeypatch=monkeypatch)
    select(client, "INBOX")

    moved = move(client, [2, 4], "Archive")

    assert moved == {2: 1, 4: 2}
    archived = mail_servers.messages(user.address, "Archive")
    assert [(m.uid, m.raw) for m in archived] == [(1, SEEDED[1]), (2, SEEDED[3])]
    assert flags_on_server(mail_servers, user, "Archive") == {1: set(), 2: {FLAGGED}}
    assert [m.uid for m in mail_servers.messages(user.address)] == [1, 3]


def test_without_uidplus_another_programs_deleted_mark_is_not_expunged(
    client: ImapClient, mail_servers: MailServers, user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    without(client, "MOVE", "UIDPLUS", monkeypatch=monkeypatch)
    select(client, "INBOX")
    set_flags(client, [1], add=[DELETED])  # marked by someone, not to be expunged by us

    move(client, [2], "Archive")

    assert flags_on_server(mail_servers, user) == {
        1: {SEEN, DELETED},
        2: {DELETED},
        3: set(),
        4: {FLAGGED},
    }


def test_moving_to_a_missing_folder_raises_folder_missing(client: ImapClient) -> None:
    select(client, "INBOX")

    with pytest.raises(FolderMissing) as caught:
        move(client, [1], "Nowhere")

    assert caught.value.folder == "Nowhere"


def test_delete_permanently_expunges_only_those_messages(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    select(client, "INBOX")

    delete_permanently(client, [1, 3])

    assert [m.uid for m in mail_servers.messages(user.address)] == [2, 4]


def test_append_stores_the_bytes_and_returns_the_new_uid(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    raw = messages.with_attachments()
    sent_at = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)

    uid = append(client, "Sent", raw, flags=[SEEN], date=sent_at)

    assert uid == 1
    assert [(m.uid, m.raw) for m in mail_servers.messages(user.address, "Sent")] == [(1, raw)]
    assert flags_on_server(mail_servers, user, "Sent") == {1: {SEEN}}
    select(client, "Sent")
    [[info]] = fetch_headers(client, "all")
    assert info.internal_date == sent_at


def test_appending_to_a_missing_folder_raises_folder_missing(client: ImapClient) -> None:
    with pytest.raises(FolderMissing):
        append(client, "Nowhere", messages.plain_text())


def test_mark_all_read_sets_seen_on_the_unseen_only(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    marked = mark_all_read(client, "INBOX")

    assert marked == [2, 3, 4]
    assert flags_on_server(mail_servers, user) == {
        1: {SEEN},
        2: {SEEN},
        3: {SEEN},
        4: {FLAGGED, SEEN},
    }


def test_empty_folder_removes_every_message(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    mail_servers.seed(user.address, [messages.plain_text(), messages.html_only()], folder="Junk")

    assert empty_folder(client, "Junk") == 2
    assert mail_servers.messages(user.address, "Junk") == []
    assert len(mail_servers.messages(user.address)) == 4
