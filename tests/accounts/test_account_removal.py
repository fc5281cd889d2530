"""Removing an account removes everything stored for it."""

import pytest
from django.utils import timezone

from accounts.models import MailAccount, User
from accounts.services.mail_accounts import do_delete_account
from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation, OutgoingMessage, PendingAction
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.services.outbox import do_queue_message
from tests.accounts.factories import make_account

pytestmark = pytest.mark.django_db


def test_rows_and_message_files_go_with_the_account(
    settings, tmp_path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    alice = User.objects.create_user("alice")
    account = make_account(alice, "alice@example.test")
    kept = make_account(alice, "alice@other.test")
    stored = storage.store(account.pk, b"Subject: bye\r\n\r\nbye\r\n")
    kept_file = storage.store(kept.pk, b"Subject: stay\r\n\r\nstay\r\n")
    folder = Folder.objects.create(account=account, name="INBOX", role="inbox")
    message = Message.objects.create(account=account, sha256=stored.sha256, raw_path=stored.path)
    MessageLocation.objects.create(folder=folder, message=message, uid=1)
    PendingAction.objects.create(account=account, kind="set_flags", dedupe_key="k")

    with django_capture_on_commit_callbacks(execute=True):
        do_delete_account(account)

    assert not Message.objects.filter(account_id=account.pk).exists()
    assert not Folder.objects.filter(account_id=account.pk).exists()
    assert not PendingAction.objects.exists()
    assert not (tmp_path / str(account.pk)).exists()
    assert storage.read_raw(kept_file.path) == b"Subject: stay\r\n\r\nstay\r\n"


def _queued(account, subject: str, state: str = "queued"):  # type: ignore[no-untyped-def]
    draft = OutgoingDraft(
        from_=("", account.email),
        to=(("Bob", "bob@example.test"),),
        subject=subject,
        text="hello",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
    )
    queued = do_queue_message(account, build_message(draft, allow_private_hosts=True))
    OutgoingMessage.objects.filter(pk=queued.pk).update(state=state)
    return queued


def test_the_page_names_the_waiting_mail_that_removal_cancels(client) -> None:  # type: ignore[no-untyped-def]
    alice = User.objects.create_user("alice", password="pw-alice-1")
    account = make_account(alice, "alice@example.test")
    _queued(account, "Quarterly report")
    _queued(account, "Already gone", state="sent")
    client.force_login(alice)

    page = client.get(f"/settings/accounts/{account.pk}/delete/")

    assert b"Unsent mail will be cancelled" in page.content
    assert b"Quarterly report" in page.content
    assert b"Already gone" not in page.content


def test_removal_cancels_waiting_mail_and_says_so(client) -> None:  # type: ignore[no-untyped-def]
    alice = User.objects.create_user("alice", password="pw-alice-1")
    account = make_account(alice, "alice@example.test")
    _queued(account, "One")
    _queued(account, "Two")
    client.force_login(alice)

    done = client.post(f"/settings/accounts/{account.pk}/delete/", follow=True)

    assert not MailAccount.objects.filter(pk=account.pk).exists()
    assert not OutgoingMessage.objects.exists()
    assert b"2 waiting messages were cancelled, not sent." in done.content


def test_removal_waits_while_a_message_is_being_sent(client) -> None:  # type: ignore[no-untyped-def]
    alice = User.objects.create_user("alice", password="pw-alice-1")
    account = make_account(alice, "alice@example.test")
    waiting = _queued(account, "Waiting")
    sending = _queued(account, "On its way", state="sending")
    client.force_login(alice)

    refused = client.post(f"/settings/accounts/{account.pk}/delete/", follow=True)

    assert MailAccount.objects.filter(pk=account.pk).exists()
    assert b"1 message is being sent right now" in refused.content
    waiting.refresh_from_db()
    sending.refresh_from_db()
    assert (waiting.state, sending.state) == ("cancelled", "sending")  # never sent, untouched

    OutgoingMessage.objects.filter(pk=sending.pk).update(state="sent")
    client.post(f"/settings/accounts/{account.pk}/delete/")
    assert not MailAccount.objects.filter(pk=account.pk).exists()


def test_a_user_removed_in_the_admin_takes_the_accounts_files_along(
    settings, tmp_path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    alice = User.objects.create_user("alice")
    account = make_account(alice, "alice@example.test")
    storage.store(account.pk, b"Subject: big\r\n\r\n" + b"x" * (storage.SMALL_LIMIT + 1))
    assert (tmp_path / str(account.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        alice.delete()  # what the admin's delete does, cascading to the account

    assert not MailAccount.objects.filter(pk=account.pk).exists()
    assert not (tmp_path / str(account.pk)).exists()
