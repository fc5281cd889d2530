"""Planner statistics refreshed when a listing outgrows them (PostgreSQL; SQLite has none)."""

import pytest
from django.db import connection

from accounts.models import User
from mailbox.models import Message, MessageLocation
from mailbox.services.sync import imap_folder, sync_account
from mailbox.services.sync.statistics import refresh_if_outgrown
from tests.accounts.factories import make_account
from tests.harness import messages
from tests.mailbox.test_imap_sync import mailbox_pair, storage_dir  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def known_rows() -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Message._meta.db_table]
        )
        return cursor.fetchone()[0]


@pytest.mark.both_databases
def test_a_listing_that_outgrows_the_statistics_refreshes_them_once(settings) -> None:
    settings.MAIL_SYNC_ANALYZE_MIN_ROWS = 10
    if connection.vendor != "postgresql":
        assert refresh_if_outgrown(10_000) is False  # SQLite plans without statistics
        return
    before = known_rows()

    assert refresh_if_outgrown(10_000) is True
    assert known_rows() >= 0 and known_rows() != before  # ANALYZE counted the rows there
    assert refresh_if_outgrown(9) is False  # fewer than MAIL_SYNC_ANALYZE_MIN_ROWS


def test_rows_the_statistics_already_know_of_are_not_analysed_again(settings) -> None:
    settings.MAIL_SYNC_ANALYZE_MIN_ROWS = 10
    if connection.vendor != "postgresql":
        assert refresh_if_outgrown(41) is False
        return
    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    Message.objects.bulk_create(Message(account=account) for _ in range(40))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Message._meta.db_table}")

    assert known_rows() == 40
    assert refresh_if_outgrown(40) is False  # no more than it knows of
    assert refresh_if_outgrown(41) is True


def test_a_first_sync_of_a_bigger_folder_analyses_after_its_first_batch(
    mailbox_pair,  # noqa: F811
    mail_servers,
    settings,
    monkeypatch,
) -> None:
    account, user = mailbox_pair
    settings.MAIL_SYNC_ANALYZE_MIN_ROWS = 5
    monkeypatch.setattr(imap_folder, "FIRST_HEADER_BATCH", 2)
    mail_servers.seed(user.address, list(messages.volume(6)))
    asked: list[int] = []
    real = imap_folder.statistics.refresh_if_outgrown
    monkeypatch.setattr(
        imap_folder.statistics,
        "refresh_if_outgrown",
        lambda new_rows: asked.append(MessageLocation.objects.count()) or real(new_rows),
    )

    report = sync_account(account.pk)

    assert report.error == "" and report.new == 6
    assert asked == [2]  # once, with the first batch stored
    if connection.vendor == "postgresql":
        assert known_rows() >= 2
