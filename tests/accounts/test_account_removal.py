"""Removing an account removes everything stored for it."""

import pytest

from accounts.models import User
from accounts.services.mail_accounts import do_delete_account
from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation, PendingAction
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
