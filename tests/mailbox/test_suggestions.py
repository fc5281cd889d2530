"""Address suggestions (issue 6, point 1): the people who wrote to the person and the people
they wrote to, counted from the local store after a sync and from every message queued here;
people written to first, then the most recent; matched on the start of a name's words or of
the address, case and accents ignored; never another person's correspondents."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from accounts.models import MailAccount, User
from mailbox.models import Correspondent, Folder, FolderRole, OutgoingMessage
from mailbox.protocols.types import Security, Server
from mailbox.services.correspondents import record_written_to, refresh_from_messages
from mailbox.services.suggestions import suggest
from mailbox.tasks.contacts import refresh_correspondents
from mailbox.tasks.sync import sync_account_task
from tests.accounts.factories import make_account
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.messages import BASE_DATE
from tests.views.message_support import deliver, mail, make_person

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


def days(n: int) -> dt.datetime:
    return BASE_DATE + dt.timedelta(days=n)


class Mailbox:
    """A person's account with an inbox, a Sent folder, Junk and Drafts, filled by `receive`
    and `send` as a sync would store their messages."""

    def __init__(self, name: str) -> None:
        self.user, self.account, self.inbox = make_person(name)
        self.address = self.account.email
        self.folders = {
            role: Folder.objects.create(account=self.account, name=role.label, role=role)
            for role in (FolderRole.SENT, FolderRole.JUNK, FolderRole.DRAFTS)
        }
        self.count = 0

    def receive(self, sender: str, when: dt.datetime, folder: Folder | None = None) -> None:
        self.count += 1
        raw = mail(sender=sender, to=self.address, date=when, message_id=f"<in{self.count}@x.test>")
        deliver(folder or self.inbox, raw, body=False)

    def send(self, to: str, when: dt.datetime, cc: str = "", role: str = FolderRole.SENT) -> str:
        self.count += 1
        message_id = f"<out{self.count}@example.test>"
        raw = mail(sender=self.address, to=to, cc=cc, date=when, message_id=message_id)
        deliver(self.folders[role], raw, body=False)
        return message_id

    def refresh(self) -> int:
        return refresh_from_messages(self.account.pk)

    def suggested(self, typed: str) -> list[str]:
        return [s.written for s in suggest(self.user, typed)]


@pytest.fixture
def alice() -> Mailbox:
    return Mailbox("alice")


def test_people_written_to_come_first_then_the_most_recent(alice: Mailbox) -> None:
    alice.receive("Bob Builder <bob@builder.test>", days(1))
    alice.receive("Bobby Tables <tables@school.test>", days(3))
    alice.send("Boris Becker <boris@tennis.test>", days(2), cc="Bonnie <bonnie@cc.test>")
    alice.send("Boris Becker <boris@tennis.test>", days(0))

    assert alice.refresh() == 4

    assert alice.suggested("bo") == [
        "Bonnie <bonnie@cc.test>",  # written to (Cc) on day 2
        "Boris Becker <boris@tennis.test>",  # written to on day 2 and day 0
        "Bobby Tables <tables@school.test>",  # wrote on day 3
        "Bob Builder <bob@builder.test>",  # wrote on day 1
    ]
    boris = Correspondent.objects.get(user=alice.user, address="boris@tennis.test")
    assert (boris.written_count, boris.received_count, boris.last_at) == (2, 0, days(2))


def test_the_start_of_any_name_word_or_of_the_address_matches(alice: Mailbox) -> None:
    alice.receive("Bobby Tables <tables@school.test>", days(1))
    alice.receive('"Zola, Émile" <ez@paris.test>', days(2))
    alice.receive("Bob Builder <builder.bob@site.test>", days(3))
    alice.refresh()

    assert alice.suggested("TAB") == ["Bobby Tables <tables@school.test>"]  # second word
    assert alice.suggested("tables@sch") == ["Bobby Tables <tables@school.test>"]  # address
    assert alice.suggested('"Bobby <tables@') == ["Bobby Tables <tables@school.test>"]
    assert alice.suggested("school") == []  # inside the address, not its start
    assert alice.suggested("emi") == ['"Zola, Émile" <ez@paris.test>']  # accents ignored
    assert alice.suggested("Bob Bu") == ["Bob Builder <builder.bob@site.test>"]  # every word
    assert alice.suggested("obby") == []  # inside a word
    assert alice.suggested("b") == []  # one letter asks for nothing


def test_never_another_persons_correspondents(alice: Mailbox) -> None:
    bob = Mailbox("bob")
    bob.receive("Bonnie Secret <bonnie@secret.test>", days(1))
    bob.send("Boris Hidden <boris@hidden.test>", days(1))
    bob.refresh()
    alice.receive("Bo Diddley <bo@music.test>", days(1))
    alice.refresh()

    assert alice.suggested("bo") == ["Bo Diddley <bo@music.test>"]
    assert bob.suggested("bo") == [
        "Boris Hidden <boris@hidden.test>",
        "Bonnie Secret <bonnie@secret.test>",
    ]


def test_own_addresses_junk_and_drafts_count_for_nothing(alice: Mailbox) -> None:
    alice.receive("Spammy Spam <spam@junk.test>", days(1), folder=alice.folders[FolderRole.JUNK])
    alice.send("Sprout Draft <sprout@draft.test>", days(1), role=FolderRole.DRAFTS)
    alice.send(f"Me Myself <{alice.address}>, Sparrow <sparrow@real.test>", days(1))
    alice.refresh()

    assert alice.suggested("sp") == ["Sparrow <sparrow@real.test>"]
    assert alice.suggested("alice") == []


def test_each_message_is_counted_once_however_often_refresh_runs(alice: Mailbox) -> None:
    alice.receive("Carol Singer <carol@choir.test>", days(1))
    assert alice.refresh() == 1
    assert alice.refresh() == 0  # nothing new: nothing counted again
    alice.receive("Carol S. <CAROL@choir.test>", days(5))
    assert alice.refresh() == 1

    carol = Correspondent.objects.get(user=alice.user)
    assert (carol.received_count, carol.name, carol.last_at) == (2, "Carol S.", days(5))
    assert alice.suggested("carol s") == ['"Carol S." <carol@choir.test>']
    assert alice.suggested("singer") == []  # the old name's words went with it


def test_refresh_reads_a_big_backlog_in_chunks(
    alice: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mailbox.services.correspondents.CHUNK", 2)
    for n in range(5):
        alice.receive(f"Dee {n} <dee{n}@d.test>", days(n))

    assert alice.refresh() == 5
    assert alice.suggested("dee") == [f"Dee {n} <dee{n}@d.test>" for n in (4, 3, 2, 1, 0)]


def test_recipients_of_a_queued_message_are_suggested_at_once(alice: Mailbox) -> None:
    record_written_to(alice.user, [("Erin", "erin@e.test"), ("", "eve@e.test")])

    assert alice.suggested("er") == ["Erin <erin@e.test>"]
    assert alice.suggested("eve") == ["eve@e.test"]


def test_the_sent_copy_of_a_message_queued_here_is_not_counted_again(alice: Mailbox) -> None:
    record_written_to(alice.user, [("Erin", "erin@e.test")])
    message_id = alice.send("Erin <erin@e.test>", days(1))
    later = dt.datetime.now(dt.UTC)
    OutgoingMessage.objects.create(
        account=alice.account,
        message_id=message_id,
        raw=b"",
        sent_copy=b"",
        send_at=later,
        next_attempt_at=later,
    )
    alice.refresh()

    assert Correspondent.objects.get(user=alice.user).written_count == 1


def test_the_task_counts_and_leaves_a_removed_account_alone(alice: Mailbox) -> None:
    alice.receive("Fay <fay@f.test>", days(1))

    assert refresh_correspondents.apply(args=[alice.account.pk]).get() == 1
    MailAccount.objects.filter(pk=alice.account.pk).delete()
    assert refresh_correspondents.apply(args=[alice.account.pk]).get() == 0
    assert alice.suggested("fay") == ["Fay <fay@f.test>"]  # the person's, not the account's


def test_a_sync_that_stores_new_mail_counts_its_people(
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = mail_user()
    mail_servers.seed(box.address, [mail(sender="Gina Grey <gina@grey.test>", to=box.address)])
    e = mail_servers.endpoints
    user = User.objects.create_user("gina-reader")
    account = make_account(
        user,
        box.address,
        password=box.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )
    counted: list[int] = []

    def run_now(account_id: int) -> None:  # the refresh the sync task enqueues, run here
        counted.append(refresh_correspondents.apply([account_id]).get())

    monkeypatch.setattr(refresh_correspondents, "delay", run_now)

    sync_account_task.apply([account.pk])
    sync_account_task.apply([account.pk])  # nothing new: nothing to count

    assert counted == [1]
    assert [s.written for s in suggest(user, "gi")] == ["Gina Grey <gina@grey.test>"]
