"""Flags set here reach the real Dovecot, and a sync never flips them back.

The helpers at the top are shared by the other test_actions_* modules: an account synced from
the fixture Dovecot, and a look at its folders as another IMAP client sees them.
"""

import email
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from accounts.models import MailAccount, User
from mailbox.models import Folder, MessageLocation, PendingAction
from mailbox.models.actions import ActionKind, ActionState
from mailbox.protocols.types import Security, Server
from mailbox.services.actions import (
    Flag,
    ReplayReport,
    do_mark_folder_read,
    do_move,
    do_set_flag,
    replay_account,
)
from mailbox.services.sync import sync_account
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser, StoredMessage

pytestmark = pytest.mark.django_db


@dataclass
class Mailbox:
    account: MailAccount
    address: str
    servers: MailServers

    def folder(self, name: str) -> Folder:
        return Folder.objects.get(account=self.account, name=name)

    def location(self, subject: str) -> MessageLocation:
        return MessageLocation.objects.select_related("folder", "message").get(
            folder__account=self.account, message__subject=subject
        )

    def on_server(self, folder: str = "INBOX") -> dict[str, StoredMessage]:
        """The folder as another mail program sees it, by subject."""
        found = self.servers.messages(self.address, folder)
        return {email.message_from_bytes(m.raw)["Subject"]: m for m in found}

    def seed(
        self, subjects: Sequence[str], folder: str = "INBOX", flags: Sequence[str] = ()
    ) -> None:
        self.servers.seed(self.address, [mail(s) for s in subjects], folder, flags)

    def replay(self) -> ReplayReport:
        return replay_account(self.account.pk, owner="test")

    def sync(self) -> None:
        assert sync_account(self.account.pk, bodies=False).error == ""


def mail(subject: str) -> bytes:
    envelope = messages.Envelope(
        subject=subject, message_id=f"<{secrets.token_hex(8)}@example.test>"
    )
    return messages.plain_text(envelope)


def synced_mailbox(
    servers: MailServers,
    user: MailUser,
    subjects: Sequence[str] = ("One", "Two", "Three"),
    owner: str = "alice",
) -> Mailbox:
    e = servers.endpoints
    account = make_account(
        User.objects.create_user(owner),
        user.address,
        password=user.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )
    box = Mailbox(account, user.address, servers)
    box.seed(subjects)
    box.sync()
    return box


@pytest.fixture
def box(  # type: ignore[no-untyped-def]
    mail_servers: MailServers, mail_user: Callable[..., MailUser], settings, tmp_path
) -> Mailbox:
    settings.MAIL_STORAGE_DIR = tmp_path
    return synced_mailbox(mail_servers, mail_user())


def states(box: Mailbox) -> list[str]:
    return list(PendingAction.objects.filter(account=box.account).values_list("state", flat=True))


def test_read_and_flagged_reach_the_server(box: Mailbox) -> None:
    do_set_flag([box.location("One"), box.location("Two")], Flag.SEEN, True)
    do_set_flag([box.location("Two")], Flag.FLAGGED, True)

    assert box.location("One").is_seen  # here at once
    assert box.folder("INBOX").unread_count == 1
    assert "\\Seen" not in box.on_server()["One"].flags  # the server only after the replay

    report = box.replay()

    assert (report.done, report.failed) == (3, 0)
    server = box.on_server()
    assert "\\Seen" in server["One"].flags
    assert {"\\Seen", "\\Flagged"} <= server["Two"].flags
    assert "\\Seen" not in server["Three"].flags
    assert states(box) == [ActionState.DONE] * 3


def test_a_sync_before_the_replay_does_not_flip_the_flag_back(box: Mailbox) -> None:
    box.seed(["Four"], flags=["\\Seen"])
    box.sync()
    do_set_flag([box.location("One")], Flag.FLAGGED, True)
    do_set_flag([box.location("Four")], Flag.SEEN, False)

    box.sync()  # the server still says otherwise: the waiting changes stand

    assert box.location("One").is_flagged and not box.location("Four").is_seen
    box.replay()
    box.sync()
    assert box.location("One").is_flagged and not box.location("Four").is_seen
    server = box.on_server()
    assert "\\Flagged" in server["One"].flags and "\\Seen" not in server["Four"].flags


def test_the_same_change_twice_is_one_row_and_the_latest_click_wins(box: Mailbox) -> None:
    one = box.location("One")
    do_set_flag([one], Flag.SEEN, True)
    do_set_flag([one], Flag.SEEN, True)
    assert PendingAction.objects.filter(account=box.account).count() == 1

    do_set_flag([one], Flag.SEEN, False)
    do_set_flag([one], Flag.SEEN, True)

    action = PendingAction.objects.get(account=box.account)
    assert action.payload == {"flag": "seen", "value": True, "previous": False}
    box.replay()
    assert "\\Seen" in box.on_server()["One"].flags


def test_two_moves_while_the_first_waits_are_one_move(box: Mailbox) -> None:
    do_move([box.location("One")], box.folder("Archive"))
    do_move([box.location("One")], box.folder("Junk"))

    action = PendingAction.objects.get(account=box.account, kind=ActionKind.MOVE)
    assert action.payload["to_folder"] == box.folder("Junk").pk
    box.replay()
    assert "One" in box.on_server("Junk") and "One" not in box.on_server("Archive")


def test_a_move_back_before_the_replay_cancels_it(box: Mailbox) -> None:
    uid = box.location("One").uid
    do_move([box.location("One")], box.folder("Archive"))
    do_move([box.location("One")], box.folder("INBOX"))

    assert not PendingAction.objects.filter(account=box.account).exists()
    assert box.location("One").uid == uid and box.location("One").folder.name == "INBOX"


def test_marking_a_folder_read_leaves_mail_that_came_meanwhile_unread(box: Mailbox) -> None:
    do_mark_folder_read(box.folder("INBOX"))
    box.seed(["Late"])  # reached the server after the click, never listed here

    assert box.folder("INBOX").unread_count == 0
    box.replay()

    server = box.on_server()
    assert all("\\Seen" in server[s].flags for s in ("One", "Two", "Three"))
    assert "\\Seen" not in server["Late"].flags
