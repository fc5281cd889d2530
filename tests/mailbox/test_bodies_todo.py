"""Which bodies a folder's bodies stage fetches (its envelope-only messages, newest first, big
ones spread out) and which it fills."""

import pytest

from accounts.models import MailAccount, User
from mailbox import storage
from mailbox.models import Folder, FolderRole, Message, MessageLocation, RawBlob
from mailbox.models.messages import BodyState
from mailbox.protocols import imap_fetch
from mailbox.protocols.imap_fetch import STREAM_THRESHOLD
from mailbox.services.sync import imap_bodies
from mailbox.services.sync.bodies import store_bodies
from mailbox.services.sync.imap_bodies import _bodies_to_fetch
from tests.accounts.factories import make_account
from tests.harness import messages

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


def test_store_bodies_fills_only_messages_still_envelope_only(account) -> None:
    """A message filled by a twin sync meanwhile, or gone, is left as it is, and its raw
    bytes are not stored again."""
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    waiting, filled, gone = located(inbox, [1, 2, 3])
    Message.objects.filter(pk=filled.pk).update(body_state=BodyState.COMPLETE, text="kept")
    gone_id = gone.pk
    gone.delete()
    raws = [
        messages.plain_text(messages.Envelope(message_id=f"<{n}@x>"), body=f"Words number {n}.")
        for n in range(3)
    ]

    done = store_bodies(account.pk, zip([waiting.pk, filled.pk, gone_id], raws, strict=True))

    assert done == 1
    assert "Words number 0." in Message.objects.get(pk=waiting.pk).text
    assert Message.objects.get(pk=filled.pk).text == "kept"
    assert not Message.objects.filter(pk=gone_id).exists()
    assert RawBlob.objects.filter(account=account).count() == 1


def test_big_messages_come_one_after_each_batch_of_small_ones(monkeypatch) -> None:
    """Each big message is fetched after the next batch of small ones (not all together), so
    the helper parses it while the worker writes; none is lost, and progress never rises."""
    monkeypatch.setattr(imap_bodies, "FIRST_BODY_BATCH", 3)
    monkeypatch.setattr(imap_bodies, "BODY_BATCH", 3)
    monkeypatch.setattr(
        imap_fetch, "fetch_bodies", lambda _, uids, batch: [(u, b"s") for u in uids]
    )
    monkeypatch.setattr(imap_bodies, "_fetch_big", lambda _, uid: b"big")
    monkeypatch.setattr(storage, "prepare_many", lambda _, raws: [])
    big = STREAM_THRESHOLD + 1
    sizes = {12: big, 11: big, 10: big, 9: 1, 8: 1, 7: big, 6: 1, 5: 1, 4: 1, 3: 1, 2: 1, 1: 1}
    todo = [(uid, uid * 100, sizes[uid]) for uid in sorted(sizes, reverse=True)]

    fetched = list(imap_bodies._fetched_batches(None, 1, todo))  # type: ignore[arg-type]

    order = [[message_id // 100 for message_id, _ in batch.items] for batch in fetched]
    assert order == [[], [12], [9, 8], [11], [6, 5, 4], [10], [3, 2, 1], [7]]
    lefts = [batch.left for batch in fetched]
    assert lefts == sorted(lefts, reverse=True)
