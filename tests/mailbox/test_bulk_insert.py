"""insert_rows and execute_many: the sync's plain INSERTs and UPDATEs, on both databases."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from mailbox.models import Folder, Message, MessageLocation
from mailbox.models.bulk import execute_many, insert_rows
from tests.accounts.factories import make_account

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

WHEN = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_rows_come_back_as_the_orm_reads_them_ids_in_row_order() -> None:
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    fields = ["account_id", "subject", "references", "recipients", "date", "size"]
    rows = [
        (account.pk, f"Subject {n}\t\\N é\n", [f"<{n}@x>"], {"to": [["Bob", "b@x.test"]]}, WHEN, n)
        for n in range(1500)  # more than one statement's worth on SQLite; COPY's specials
    ]

    ids = insert_rows(Message, fields, rows, returning_ids=True)

    assert len(ids) == 1500 and len(set(ids)) == 1500
    stored = Message.objects.in_bulk(ids)
    for n, message_id in enumerate(ids):
        message = stored[message_id]
        assert (message.subject, message.size) == (f"Subject {n}\t\\N é\n", n)
        assert message.references == [f"<{n}@x>"]
        assert message.recipients == {"to": [["Bob", "b@x.test"]]}
        assert message.date == WHEN
        assert message.body_state == "envelope" and message.text == ""  # field defaults
        assert message.created_at is not None  # auto_now_add
    # The table's own id sequence gave them (PostgreSQL draws them before its COPY).
    assert Message.objects.create(account=account).pk > max(ids)


def test_ignore_conflicts_skips_rows_already_there() -> None:
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    folder = Folder.objects.create(account=account, name="INBOX")
    message = Message.objects.create(account=account)
    fields = ["folder_id", "message_id", "uid", "sort_date", "is_seen"]
    insert_rows(MessageLocation, fields, [(folder.pk, message.pk, 7, WHEN, True)])

    insert_rows(
        MessageLocation,
        fields,
        [(folder.pk, message.pk, 7, WHEN, False), (folder.pk, message.pk, 8, WHEN, False)],
        ignore_conflicts=True,
    )

    stored = dict(MessageLocation.objects.values_list("uid", "is_seen"))
    assert stored == {7: True, 8: False}  # the first row stays as it was


def test_execute_many_runs_the_statement_for_each_row_with_its_values_as_given() -> None:
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    ids = [Message.objects.create(account=account).pk for _ in range(3)]
    texts = ["plain", "quote ' and \\ backslash, $1 and %% too", "é\t\n" * 1000]

    execute_many(
        "UPDATE mailbox_message SET text = %s, size = %s, has_attachments = %s WHERE id = %s",
        [
            (text, 10**10 + n, n == 1, pk)
            for n, (text, pk) in enumerate(zip(texts, ids, strict=True))
        ],
    )

    stored = Message.objects.in_bulk(ids)
    for n, (text, pk) in enumerate(zip(texts, ids, strict=True)):
        assert (stored[pk].text, stored[pk].size) == (text, 10**10 + n)
        assert stored[pk].has_attachments is (n == 1)


def test_a_conflict_is_djangos_integrity_error_and_the_statement_works_after_it() -> None:
    """What store_bodies relies on when a twin sync stored the same content meanwhile: the
    batch fails as an IntegrityError, and the same statements then run row by row."""
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    held, other = (Message.objects.create(account=account) for _ in range(2))
    Message.objects.filter(pk=held.pk).update(sha256="a" * 64)
    update = "UPDATE mailbox_message SET sha256 = %s WHERE id = %s"

    with pytest.raises(IntegrityError), transaction.atomic():
        execute_many(update, [("a" * 64, other.pk)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Message, ["account_id", "sha256"], [(account.pk, "a" * 64)])
    with transaction.atomic():
        execute_many(update, [("b" * 64, other.pk)])
        insert_rows(Message, ["account_id", "sha256"], [(account.pk, "c" * 64)])

    assert Message.objects.get(pk=other.pk).sha256 == "b" * 64
    assert Message.objects.filter(sha256="c" * 64).count() == 1
