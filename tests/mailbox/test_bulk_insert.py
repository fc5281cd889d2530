"""insert_rows and update_rows: the sync's plain INSERTs and UPDATEs, on both databases."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from mailbox.models import Folder, Message, MessageLocation
from mailbox.models.bulk import insert_rows, update_rows
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


def test_update_rows_sets_each_rows_values_as_given_and_leaves_the_rest() -> None:
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    ids = [Message.objects.create(account=account, subject=f"s{n}").pk for n in range(1203)]
    untouched = Message.objects.create(account=account, text="kept", size=5)
    texts = ["plain", "quote ' and \\ backslash, $1, %% and \\N too", "é\t\n" * 1000]
    rows = [(texts[n % 3], 10**10 + n, n % 2 == 1, pk) for n, pk in enumerate(ids)]

    update_rows(Message, ["text", "size", "has_attachments"], rows[:600])
    update_rows(Message, ["text", "size", "has_attachments"], rows[600:])  # same transaction

    stored = Message.objects.in_bulk(ids)
    for n, pk in enumerate(ids):
        assert (stored[pk].text, stored[pk].size) == (texts[n % 3], 10**10 + n)
        assert stored[pk].has_attachments is (n % 2 == 1)
        assert stored[pk].subject == f"s{n}"  # a field not given stays
    untouched.refresh_from_db()
    assert (untouched.text, untouched.size) == ("kept", 5)


def test_a_conflict_is_djangos_integrity_error_and_the_statement_works_after_it() -> None:
    """What store_bodies relies on when a twin sync stored the same content meanwhile: the
    batch fails as an IntegrityError, and the same statements then run row by row."""
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    held, other = (Message.objects.create(account=account) for _ in range(2))
    Message.objects.filter(pk=held.pk).update(sha256="a" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        update_rows(Message, ["sha256"], [("a" * 64, other.pk)])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Message, ["account_id", "sha256"], [(account.pk, "a" * 64)])
    with transaction.atomic():
        update_rows(Message, ["sha256"], [("b" * 64, other.pk)])
        insert_rows(Message, ["account_id", "sha256"], [(account.pk, "c" * 64)])

    assert Message.objects.get(pk=other.pk).sha256 == "b" * 64
    assert Message.objects.filter(sha256="c" * 64).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ignore_conflicts_outside_a_transaction_keeps_the_new_rows() -> None:
    """As a worker runs it (autocommit): on PostgreSQL the COPY that meets a stored row is
    undone whole, and its rows go again one by one, skipping the one already there."""
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    folder = Folder.objects.create(account=account, name="INBOX")
    message = Message.objects.create(account=account)
    fields = ["folder_id", "message_id", "uid", "sort_date"]
    insert_rows(MessageLocation, fields, [(folder.pk, message.pk, 2, WHEN)])

    rows = [(folder.pk, message.pk, uid, WHEN) for uid in (1, 2, 3)]
    insert_rows(MessageLocation, fields, rows, ignore_conflicts=True)

    assert sorted(MessageLocation.objects.values_list("uid", flat=True)) == [1, 2, 3]
