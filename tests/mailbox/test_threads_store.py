"""Conversations across batches: a message finds the stored ones it names, or that name it."""

import pytest

from accounts.models import MailAccount, User
from mailbox.models import Message
from mailbox.models.bulk import IN_CHUNK
from mailbox.services.sync.threads import file_into_conversations
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def stored(account: MailAccount, *mails: tuple[str, str]) -> list[Message]:
    """One sync batch: (Message-ID, In-Reply-To) each, filed and saved."""
    messages = [
        Message(
            account=account,
            message_id=message_id,
            in_reply_to=parent,
            references=[parent] if parent else [],
            subject="Plans",
        )
        for message_id, parent in mails
    ]
    file_into_conversations(account.pk, messages)
    return Message.objects.bulk_create(messages)


@pytest.fixture
def account() -> MailAccount:
    return make_account(User.objects.create_user("alice"), "alice@example.test")


def test_a_reply_in_a_later_batch_joins_its_parents_conversation(account) -> None:
    [parent] = stored(account, ("<p@x>", ""))
    [reply] = stored(account, ("<r@x>", "<p@x>"))
    [other] = stored(account, ("<o@x>", ""))

    assert reply.thread_id == parent.thread_id is not None
    assert other.thread_id not in (None, parent.thread_id)


def test_a_parent_arriving_after_its_reply_joins_the_replys_conversation(account) -> None:
    [reply] = stored(account, ("<r@x>", "<p@x>"))
    [parent] = stored(account, ("<p@x>", ""))

    assert parent.thread_id == reply.thread_id is not None


def test_another_accounts_messages_are_never_joined(account) -> None:
    someone = make_account(User.objects.create_user("bob"), "bob@example.test")
    [theirs] = stored(someone, ("<p@x>", ""))
    [reply] = stored(account, ("<r@x>", "<p@x>"))

    assert reply.thread_id != theirs.thread_id


def test_a_batch_naming_more_stored_messages_than_one_query_takes_finds_them_all(
    account,
) -> None:
    count = IN_CHUNK * 2 + 7
    parents = stored(account, *((f"<p{n}@x>", "") for n in range(count)))
    replies = stored(account, *((f"<r{n}@x>", f"<p{n}@x>") for n in range(count)))

    assert [r.thread_id for r in replies] == [p.thread_id for p in parents]
    assert len({p.thread_id for p in parents}) == count
