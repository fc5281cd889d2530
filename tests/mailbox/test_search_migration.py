"""Migration 0013: PostgreSQL's stored search text rewritten as words, found afterwards."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from mailbox.models import Message
from mailbox.search import matching
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]

BEFORE = [("mailbox", "0012_message_in_reply_to_index")]
AFTER = [("mailbox", "0013_search_words")]


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_text_stored_before_is_rewritten_as_words_and_found() -> None:
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    _migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        old_message = old.get_model("mailbox", "Message")
        text = "Budget Q3\nAnna Smith anna@example.test\nPlease review the numbers. Numbers!"
        pk = old_message.objects.create(account_id=account.pk, search_text=text).pk
        old_message.objects.create(account_id=account.pk, search_text="")
    finally:
        _migrate(AFTER)

    stored = Message.objects.get(pk=pk)
    words = "budget q3 anna smith example test please review the numbers"
    assert stored.search_text == (words if connection.vendor == "postgresql" else text)
    mine = Message.objects.filter(account=account)
    assert list(matching(mine, "example numbers")) == [stored]
    assert list(matching(mine, "invoice")) == []
