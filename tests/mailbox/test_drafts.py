"""Drafts against the real Dovecot (issue 6, point 3): saved here at once and in the account's
Drafts folder by a task, the older version replaced, exactly one copy whatever the order or
number of tasks; discarding or sending removes both; POP3 drafts stay here."""

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from mailbox.models import Draft, FolderRole, MessageLocation, OutgoingMessage
from mailbox.protocols import mime
from mailbox.protocols.mime_build import DraftError, OutgoingDraft, build_message
from mailbox.protocols.types import Protocol, Security, Server
from mailbox.services import compose, draft_copy, drafts
from mailbox.services.sync import sync_account
from mailbox.tasks import drafts as draft_tasks
from mailbox.tasks.drafts import remove_server_draft_task, store_server_draft_task
from tests.accounts.factories import make_account
from tests.harness.celery_worker import CeleryWorker
from tests.harness.mailservers import MailServers, MailUser, StoredMessage

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens


class Eager:
    """Stands in for a task in mailbox.services.drafts: .delay runs it here, now."""

    def __init__(self, task: Any) -> None:
        self.task = task

    def delay(self, *args: Any) -> None:
        self.task.apply(args=args).get()


@pytest.fixture(autouse=True)
def short_timeouts(settings):  # type: ignore[no-untyped-def]
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 3


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Eager, Eager]]:
    store, remove = Eager(store_server_draft_task), Eager(remove_server_draft_task)
    monkeypatch.setattr(draft_tasks, "store_server_draft_task", store)
    monkeypatch.setattr(draft_tasks, "remove_server_draft_task", remove)
    yield store, remove


@pytest.fixture
def alice(mail_user: Callable[..., MailUser]) -> MailUser:
    return mail_user(local="alice")


@pytest.fixture
def account(mail_servers: MailServers, alice: MailUser) -> MailAccount:
    e = mail_servers.endpoints
    return make_account(
        User.objects.create_user("alice-owner"),
        alice.address,
        password=alice.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )


def typed(account: MailAccount, message_id: str = "<draft.1@example.test>", **changes: Any) -> dict:
    """The compose form's cleaned values."""
    values = {
        "identity": account.identities.get(),
        "to": "Bob <bob@example.test>",
        "cc": "",
        "bcc": "",
        "subject": "Plans",
        "text": "First words.\n",
        "html": "",
        "message_id": message_id,
        "in_reply_to": (),
        "references": (),
        "attachments": [],
        "send_at": None,
    }
    return {**values, **changes}


def save(captured: Any, account: MailAccount, **changes: Any) -> Draft:
    with captured(execute=True):
        draft = drafts.do_save_draft(account.user, typed(account, **changes))
    assert draft is not None
    return draft


def server_drafts(servers: MailServers, user: MailUser) -> list[StoredMessage]:
    return servers.messages(user.address, folder="Drafts")


def test_saving_twice_leaves_one_draft_with_the_newer_text_flagged_draft(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    tasks: tuple[Eager, Eager],
    django_capture_on_commit_callbacks: Any,
) -> None:
    save(django_capture_on_commit_callbacks, account)
    [first] = server_drafts(mail_servers, alice)
    draft = save(django_capture_on_commit_callbacks, account, text="Second words.\n")

    [copy] = server_drafts(mail_servers, alice)
    assert {"\\Draft", "\\Seen"} <= copy.flags
    parsed = mime.parse_message(copy.raw)
    assert parsed.text.replace("\r\n", "\n") == "Second words.\n"
    assert parsed.message_id == "<draft.1@example.test>" and parsed.subject == "Plans"
    assert copy.uid != first.uid
    row = Draft.objects.get(pk=draft.pk)
    assert (row.version, row.server_version, row.server_folder) == (2, 2, "Drafts")
    assert row.server_uid == copy.uid and row.server_account == account
    assert Draft.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_the_default_queue_stores_the_newest_version_once(
    celery_worker: CeleryWorker, mail_servers: MailServers, account: MailAccount, alice: MailUser
) -> None:
    for text in ("One.\n", "One, two.\n", "One, two, three.\n"):  # each enqueues on commit
        assert drafts.do_save_draft(account.user, typed(account, text=text)) is not None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = server_drafts(mail_servers, alice)
        if len(found) == 1 and b"One, two, three." in found[0].raw:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the Drafts folder holds {server_drafts(mail_servers, alice)!r}")
    time.sleep(1)  # the tasks of the older versions, if any are left, add nothing
    assert len(server_drafts(mail_servers, alice)) == 1
    assert Draft.objects.get().server_version == 3


def test_a_task_run_twice_or_for_an_older_version_appends_nothing_more(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    tasks: tuple[Eager, Eager],
    django_capture_on_commit_callbacks: Any,
) -> None:
    draft = save(django_capture_on_commit_callbacks, account)
    [copy] = server_drafts(mail_servers, alice)

    assert draft_copy.store_server_draft(draft.pk, "late-twin") is True
    store_server_draft_task.apply(args=[draft.pk]).get()

    assert [m.uid for m in server_drafts(mail_servers, alice)] == [copy.uid]


def test_a_worker_holding_the_draft_stores_the_version_saved_meanwhile(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second save's task finds the first worker busy and leaves; the busy one goes on."""
    with django_capture_on_commit_callbacks(execute=False):
        draft = drafts.do_save_draft(account.user, typed(account))
    assert draft is not None
    real_store = draft_copy._store

    def save_while_appending(row: Draft) -> draft_copy.Stored:
        stored = real_store(row)
        if row.version == 1:
            drafts.do_save_draft(account.user, typed(account, text="Typed meanwhile.\n"))
            assert draft_copy.store_server_draft(row.pk, "second-task") is True  # busy: leaves
        return stored

    monkeypatch.setattr(draft_copy, "_store", save_while_appending)
    assert draft_copy.store_server_draft(draft.pk, "first-task") is True

    [copy] = server_drafts(mail_servers, alice)
    assert b"Typed meanwhile." in copy.raw
    assert Draft.objects.get(pk=draft.pk).server_version == 2


def test_a_draft_with_unfinished_addresses_saves_here_and_the_rest_goes_to_the_server(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    tasks: tuple[Eager, Eager],
    django_capture_on_commit_callbacks: Any,
) -> None:
    draft = save(
        django_capture_on_commit_callbacks,
        account,
        to="bob@",
        cc="carol@example.test",
        subject="Half done",
    )

    assert Draft.objects.get(pk=draft.pk).to == "bob@"
    [copy] = server_drafts(mail_servers, alice)
    parsed = mime.parse_message(copy.raw)
    assert parsed.to == () and [a.email for a in parsed.cc] == ["carol@example.test"]
    assert parsed.subject == "Half done"


def test_discard_removes_the_draft_here_and_on_the_server(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    tasks: tuple[Eager, Eager],
    django_capture_on_commit_callbacks: Any,
) -> None:
    save(django_capture_on_commit_callbacks, account)
    assert len(server_drafts(mail_servers, alice)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        found = drafts.do_discard_draft(
            account.user, "<draft.1@example.test>", account.identities.get()
        )

    assert found and not Draft.objects.exists()
    assert server_drafts(mail_servers, alice) == []
    remove_server_draft_task.apply(args=[account.pk, "<draft.1@example.test>"]).get()  # twice


def test_a_draft_discarded_while_its_copy_was_appended_is_removed_by_that_worker(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        draft = drafts.do_save_draft(account.user, typed(account))
    assert draft is not None
    real_store = draft_copy._store

    def discard_while_appending(row: Draft) -> draft_copy.Stored:
        stored = real_store(row)
        Draft.objects.filter(pk=row.pk).delete()  # the person pressed Discard meanwhile
        return stored

    monkeypatch.setattr(draft_copy, "_store", discard_while_appending)
    draft_copy.store_server_draft(draft.pk, "worker")

    assert server_drafts(mail_servers, alice) == []


def test_send_removes_the_draft_here_and_on_the_server(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    tasks: tuple[Eager, Eager],
    django_capture_on_commit_callbacks: Any,
) -> None:
    save(django_capture_on_commit_callbacks, account)
    assert len(server_drafts(mail_servers, alice)) == 1

    with (
        mock.patch("mailbox.services.compose.send_message_task"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        queued = compose.do_send_draft(account.user, typed(account))

    assert OutgoingMessage.objects.get().message_id == queued.message_id
    assert not Draft.objects.exists()
    assert server_drafts(mail_servers, alice) == []
    # A last autosave arriving after Send does not bring the draft back.
    assert drafts.do_save_draft(account.user, typed(account)) is None
    assert not Draft.objects.exists()


def test_a_draft_written_elsewhere_reopened_and_saved_here_replaces_the_servers(
    mail_servers: MailServers,
    account: MailAccount,
    alice: MailUser,
    tasks: tuple[Eager, Eager],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path
    elsewhere = (
        f"From: Alice <{alice.address}>\r\nTo: bob@example.test\r\nSubject: From the phone\r\n"
        "Message-ID: <phone.7@example.test>\r\nDate: Tue, 04 Mar 2025 10:30:00 +0000\r\n"
        "\r\nStarted on the phone.\r\n"
    ).encode()
    mail_servers.seed(alice.address, [elsewhere], folder="Drafts", flags=["\\Draft"])
    assert sync_account(account.pk).error == ""
    location = MessageLocation.objects.get(folder__role=FolderRole.DRAFTS)

    initial = drafts.initial_from_location(account.user, location.pk)
    assert initial["text"] == "Started on the phone.\n"
    save(
        django_capture_on_commit_callbacks,
        account,
        message_id=initial["message_id"],
        text="Finished here.\n",
    )

    [copy] = server_drafts(mail_servers, alice)
    assert b"Finished here." in copy.raw and b"<phone.7@example.test>" in copy.raw


def test_pop3_drafts_stay_here(django_capture_on_commit_callbacks: Any) -> None:
    user = User.objects.create_user("pop")
    account = make_account(
        user, "pop@example.test", incoming=NOWHERE, smtp=NOWHERE, protocol=Protocol.POP3
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        draft = drafts.do_save_draft(user, typed(account))
        drafts.do_discard_draft(user, "<draft.1@example.test>", account.identities.get())

    assert draft is not None and callbacks == []
    assert not Draft.objects.exists()


def test_a_draft_may_have_no_recipients_but_a_message_to_send_may_not() -> None:
    draft = OutgoingDraft(
        from_=("Alice", "alice@example.test"),
        to=(),
        subject="Ideas",
        text="Later.\n",
        message_id="<ideas@example.test>",
        date=timezone.now() - dt.timedelta(minutes=1),
    )

    built = build_message(draft, allow_private_hosts=True, require_recipients=False)

    assert built.envelope_to == () and b"\r\nTo:" not in built.sent_copy
    with pytest.raises(DraftError, match="no recipients"):
        build_message(draft, allow_private_hosts=True)
