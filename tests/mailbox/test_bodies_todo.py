"""Which bodies a folder's bodies stage fetches: its envelope-only messages, newest first."""

import pytest

from accounts.models import MailAccount, User
from mailbox.models import Folder, FolderRole, Message, MessageLocation
from mailbox.models.messages import BodyState
from mailbox.services.sync.imap_bodies import _bodies_to_fetch
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def account() -> MailAccount:
    return make_account(User.objects.create_user("alice"), "alice@example.test")


def located(folder: Folder, uids: list[int], state: str = BodyState.ENVELOPE) -> list[Message]:
    messages = Message.objects.bulk_create(
        Message(account_id=folder.account_id, size=abs(uid) * 10, body_state=state) for uid in uids
    )
    MessageLocation.objects.bulk_create(
        MessageLocation(folder=folder, message=m, uid=uid)
        for m, uid in zip(messages, uids, strict=True)
    )
    return messages


def test_only_this_folders_envelope_only_messages_with_their_uids_newest_first(account) -> None:
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    archive = Folder.objects.create(account=account, name="Archive", role=FolderRole.ARCHIVE)
    waiting = located(inbox, [3, 9, 5])
    located(inbox, [4, 8], BodyState.COMPLETE)
    located(archive, [6])  # another folder's
    [moved] = located(inbox, [-1])  # moved here, its UID not known yet

    todo = _bodies_to_fetch(inbox)

    by_uid = {m.locations.get().uid: m.pk for m in waiting}
    assert todo == [(uid, by_uid[uid], uid * 10) for uid in (9, 5, 3)]
    assert moved.pk not in {message_id for _, message_id, _ in todo}


def test_every_waiting_message_of_a_bigger_folder_in_order(account) -> None:
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    count = 2500
    located(inbox, list(range(1, count + 1)))

    todo = _bodies_to_fetch(inbox)

    assert [uid for uid, _, _ in todo] == list(range(count, 0, -1))
