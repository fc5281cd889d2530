"""Folders: LIST with roles, SELECT's cursor, create/rename/delete — on the real Dovecot, and
role detection for other servers' listings on byte literals."""

from collections.abc import Callable, Iterator

import pytest
from imapclient.response_parser import parse_response

from mailbox.protocols import imap
from mailbox.protocols.errors import ActionRefused, FolderMissing
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_calls import text
from mailbox.protocols.imap_folders import (
    create_folder,
    delete_folder,
    folder_infos,
    list_folders,
    rename_folder,
    select,
)
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser
from tests.protocols.support import IMAP, TLS, credentials, policy, server_for


@pytest.fixture
def user(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user()


@pytest.fixture
def client(mail_servers: MailServers, user: MailUser) -> Iterator[ImapClient]:
    server = server_for(mail_servers, IMAP, TLS)
    with imap.session(server, credentials(user), policy()) as client:
        yield client


def _subscribed(servers: MailServers, user: MailUser) -> set[str]:
    """Subscribed names (undecoded), read on the harness's own connection."""
    with servers.imap(user.address) as raw:
        _, lines = raw.lsub()
    return {text(parse_response([line])[2]) for line in lines if line}


def test_it_lists_the_folders_with_their_special_use_roles(client: ImapClient) -> None:
    roles = {folder.name: folder.role for folder in list_folders(client)}

    assert roles == {
        "INBOX": "inbox",
        "Drafts": "drafts",
        "Sent": "sent",
        "Junk": "junk",
        "Trash": "trash",
        "Archive": "archive",
    }


def test_a_non_ascii_folder_is_created_and_listed_back_decoded(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    create_folder(client, "Entwürfe-Test/Übersicht")

    folders = {folder.name: folder for folder in list_folders(client)}
    created = folders["Entwürfe-Test/Übersicht"]
    assert created.raw_name == "Entw&APw-rfe-Test/&ANw-bersicht"
    assert (created.delimiter, created.parent, created.role) == ("/", "Entwürfe-Test", None)
    assert created.is_selectable
    assert "Entw&APw-rfe-Test/&ANw-bersicht" in _subscribed(mail_servers, user)


def test_select_reports_the_sync_cursor(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    mail_servers.seed(user.address, list(messages.thread(3)))

    state = select(client, "INBOX")

    assert state.exists == 3
    assert state.uidnext == 4
    assert state.uidvalidity > 0
    assert state.highestmodseq is not None and state.highestmodseq >= 1
    assert client.enabled == frozenset({"CONDSTORE", "QRESYNC"})


def test_select_without_condstore_reports_no_modseq(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    mail_servers.seed(user.address, [messages.plain_text()])

    state = select(client, "INBOX", condstore=False, readonly=True)

    assert (state.exists, state.uidnext, state.highestmodseq) == (1, 2, None)


def test_extensions_are_enabled_even_after_a_folder_was_selected(client: ImapClient) -> None:
    client.select_folder("INBOX")  # ENABLE is only legal before this: select() unselects

    state = select(client, "Sent")

    assert state.highestmodseq is not None


def test_selecting_a_missing_folder_raises_folder_missing(client: ImapClient) -> None:
    with pytest.raises(FolderMissing) as caught:
        select(client, "Nowhere")

    assert caught.value.folder == "Nowhere"
    assert "exist" in caught.value.server_reply


def test_rename_and_delete_change_the_servers_folders(
    client: ImapClient, mail_servers: MailServers, user: MailUser
) -> None:
    create_folder(client, "Projekte")
    mail_servers.seed(user.address, [messages.plain_text()], folder="Projekte")

    rename_folder(client, "Projekte", "Projekte 2024")

    assert len(mail_servers.messages(user.address, "Projekte 2024")) == 1
    assert {"Projekte 2024"} <= _subscribed(mail_servers, user)
    assert "Projekte" not in _subscribed(mail_servers, user)

    delete_folder(client, "Projekte 2024")

    assert "Projekte 2024" not in {folder.name for folder in list_folders(client)}


def test_creating_an_existing_folder_is_refused_in_the_servers_words(client: ImapClient) -> None:
    create_folder(client, "Projekte")

    with pytest.raises(ActionRefused) as caught:
        create_folder(client, "Projekte")

    assert caught.value.command == "CREATE"
    assert caught.value.server_reply


def test_deleting_a_missing_folder_raises_folder_missing(client: ImapClient) -> None:
    with pytest.raises(FolderMissing):
        delete_folder(client, "Nowhere")


# Other servers' listings, as IMAPClient parses them: (flags, delimiter, undecoded name).


def test_gmail_roles_come_from_its_attributes_and_its_parent_is_not_selectable() -> None:
    listing = [
        ((b"\\HasNoChildren",), b"/", b"INBOX"),
        ((b"\\HasChildren", b"\\Noselect"), b"/", b"[Gmail]"),
        ((b"\\All", b"\\HasNoChildren"), b"/", b"[Gmail]/All Mail"),
        ((b"\\HasNoChildren", b"\\Sent"), b"/", b"[Gmail]/Sent Mail"),
        ((b"\\HasNoChildren", b"\\Junk"), b"/", b"[Gmail]/Spam"),
        ((b"\\Flagged", b"\\HasNoChildren"), b"/", b"[Gmail]/Starred"),
        ((b"\\HasNoChildren", b"\\Trash"), b"/", b"[Gmail]/Trash"),
        ((b"\\HasNoChildren",), b"/", b"Sent"),  # a label the person made: not the Sent role
    ]

    folders = {folder.name: folder for folder in folder_infos(listing)}

    assert {name: f.role for name, f in folders.items() if f.role} == {
        "INBOX": "inbox",
        "[Gmail]/All Mail": "all",
        "[Gmail]/Sent Mail": "sent",
        "[Gmail]/Spam": "junk",
        "[Gmail]/Starred": "flagged",
        "[Gmail]/Trash": "trash",
    }
    assert not folders["[Gmail]"].is_selectable
    assert folders["[Gmail]/Trash"].parent == "[Gmail]"


def test_without_special_use_well_known_names_give_the_roles() -> None:
    listing = [
        ((b"\\HasChildren",), b".", b"INBOX"),
        ((b"\\HasNoChildren",), b".", b"INBOX.Gesendet"),
        ((b"\\HasNoChildren",), b".", b"INBOX.Entw&APw-rfe"),
        ((b"\\HasNoChildren",), b"/", b"Deleted Items"),
        ((b"\\HasNoChildren",), b"/", b"Junk E-mail"),
        ((b"\\HasNoChildren",), b"/", b"Projects/Archive"),  # the person's, not the archive
        ((b"\\NonExistent",), b"/", b"Gone"),
        ((), None, b"Bulk Mail"),
    ]

    roles = {folder.name: folder.role for folder in folder_infos(listing)}

    assert roles == {
        "INBOX": "inbox",
        "INBOX.Gesendet": "sent",
        "INBOX.Entwürfe": "drafts",
        "Deleted Items": "trash",
        "Junk E-mail": "junk",
        "Projects/Archive": None,
        "Gone": None,
        "Bulk Mail": None,  # one folder per role: "Junk E-mail" came first
    }
    assert [f.is_selectable for f in folder_infos(listing)][-2:] == [False, True]
