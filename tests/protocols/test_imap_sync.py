"""Changes made by another mail program, seen through CONDSTORE/QRESYNC or by comparison, on
the real Dovecot; and the UID-set helpers on literals."""

from collections.abc import Callable, Iterator

import pytest

from mailbox.protocols import imap
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_calls import tokens, uid_set, uid_set_members
from mailbox.protocols.imap_folders import select
from mailbox.protocols.imap_sync import (
    FlagChanges,
    changes_since,
    flags_of,
    uids_in,
    vanished_uids,
)
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser
from tests.protocols.support import IMAP, TLS, credentials, policy, server_for


@pytest.fixture
def user(mail_user: Callable[..., MailUser], mail_servers: MailServers) -> MailUser:
    user = mail_user()
    mail_servers.seed(user.address, messages.thread(4), per_message_flags=[["\\Seen"], [], [], []])
    return user


@pytest.fixture
def client(mail_servers: MailServers, user: MailUser) -> Iterator[ImapClient]:
    server = server_for(mail_servers, IMAP, TLS)
    with imap.session(server, credentials(user), policy()) as client:
        yield client


def elsewhere(servers: MailServers, user: MailUser, *commands: tuple[str, ...]) -> None:
    """Another mail program (imaplib on its own connection) runs UID commands on INBOX."""
    with servers.imap(user.address) as other:
        other.select("INBOX")
        for command in commands:
            status, reply = other.uid(*command)
            assert status == "OK", reply
        other.expunge()


def test_a_flag_changed_elsewhere_shows_up_in_changes_since(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    state = select(client, "INBOX")
    assert state.highestmodseq is not None

    elsewhere(mail_servers, user, ("STORE", "2", "+FLAGS", "(\\Flagged)"))
    changes = changes_since(client, state.highestmodseq)

    assert [(c.uid, c.flags) for c in changes.changed] == [(2, {"\\Flagged"})]
    assert changes.changed[0].modseq > state.highestmodseq
    assert changes.vanished == ()


def test_nothing_changed_means_nothing_returned(client: ImapClient) -> None:
    state = select(client, "INBOX")
    assert state.highestmodseq is not None

    assert changes_since(client, state.highestmodseq) == FlagChanges(changed=(), vanished=())


def test_an_expunge_elsewhere_is_reported_as_vanished_and_found_by_comparison(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    state = select(client, "INBOX")
    assert state.highestmodseq is not None

    elsewhere(
        mail_servers,
        user,
        ("STORE", "3", "+FLAGS", "(\\Deleted)"),
        ("STORE", "1", "-FLAGS", "(\\Seen)"),
    )
    changes = changes_since(client, state.highestmodseq)

    assert changes.vanished == (3,)
    assert [(c.uid, c.flags) for c in changes.changed] == [(1, frozenset())]
    assert vanished_uids([1, 2, 3, 4], uids_in(client)) == [3]


def test_a_reselected_folder_reports_what_vanished_since_the_stored_modseq(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    """The sync's case: the modseq is from an earlier session, the expunge in between."""
    state = select(client, "INBOX")
    client.unselect_folder()
    elsewhere(mail_servers, user, ("STORE", "4", "+FLAGS", "(\\Deleted)"))

    select(client, "INBOX")
    assert state.highestmodseq is not None
    assert changes_since(client, state.highestmodseq).vanished == (4,)


def test_without_condstore_flags_are_refreshed_for_chosen_uids(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    select(client, "INBOX", condstore=False)
    elsewhere(mail_servers, user, ("STORE", "2", "+FLAGS", "(\\Answered)"))

    assert flags_of(client, [1, 2, 3, 99], batch=2) == {
        1: {"\\Seen"},
        2: {"\\Answered"},
        3: frozenset(),
    }


def test_uid_sets_are_written_compactly_and_read_back() -> None:
    assert uid_set([7, 1, 2, 3, 5, 6, 10]) == "1:3,5:7,10"
    assert uid_set_members(b"1:3,5:7,10") == [1, 2, 3, 5, 6, 7, 10]
    assert uid_set_members(b"9:7") == [7, 8, 9]
    assert uid_set_members(42) == [42]
    assert tokens(b"(EARLIER) 41,43:45") == ((b"EARLIER",), b"41,43:45")
