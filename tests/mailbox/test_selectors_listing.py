"""Keyset pages of message lists (mailbox/selectors/listing.py), and the sidebar's folders."""

import datetime as dt

import pytest

from mailbox.models import Folder, FolderRole, MessageLocation, Thread
from mailbox.selectors.folders import sidebar
from mailbox.selectors.listing import EPOCH, Cursor, Listing, newer_rows, page
from tests.views.list_support import BASE, add_mail, add_many, make_box, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def subjects(rows: list) -> list[str]:  # type: ignore[type-arg]
    return [row.subject for row in rows]


def walk(listing: Listing, size: int) -> list[int]:
    """Every row's id, page after page through the "Older" cursors."""
    seen, cursor = [], None
    while True:
        found = page(listing, after=cursor, size=size)
        seen += [row.id for row in found.rows]
        if found.older is None:
            return seen
        cursor = found.older


@pytest.mark.parametrize(
    "text",
    ["", "x", "12", "12_", "_3", "1_2_3", "1.5_2", " 1_2", "1_" + "9" * 19]
    + ["999999999999999999_1", "-99999999999999999_1"],
)
def test_anything_but_a_cursor_is_no_cursor(text: str) -> None:
    assert Cursor.parse(text) is None


def test_a_cursor_survives_the_query_string_to_the_microsecond() -> None:
    for moment in (BASE, BASE.replace(microsecond=123456), dt.datetime(1969, 7, 20, tzinfo=dt.UTC)):
        cursor = Cursor(moment, 42)

        assert Cursor.parse(str(cursor)) == cursor
    assert Cursor.parse("0_0") == Cursor(EPOCH, 0)


def test_pages_follow_each_other_without_gap_or_overlap_even_within_one_second() -> None:
    box = make_box(make_user(), "a@example.test")
    add_many(box.inbox, 7)
    # Three at the very same moment: the id decides among them.
    same = [add_mail(box.inbox, f"Same {n}", date=BASE - dt.timedelta(minutes=3)) for n in range(3)]
    expected = list(
        MessageLocation.objects.filter(folder=box.inbox)
        .order_by("-sort_date", "-pk")
        .values_list("pk", flat=True)
    )

    assert walk(Listing((box.inbox.pk,)), size=3) == expected
    assert walk(Listing((box.inbox.pk,)), size=50) == expected
    assert {location.pk for location in same} <= set(expected)


def test_the_unified_list_merges_folders_in_date_order() -> None:
    user = make_user()
    one, two = make_box(user, "a@example.test"), make_box(user, "b@example.test")
    add_many(one.inbox, 9, start=BASE)
    add_many(two.inbox, 9, start=BASE - dt.timedelta(seconds=30))
    folders = (one.inbox.pk, two.inbox.pk)
    expected = list(
        MessageLocation.objects.filter(folder_id__in=folders)
        .order_by("-sort_date", "-pk")
        .values_list("pk", flat=True)
    )

    assert walk(Listing(folders), size=4) == expected


def test_newer_pages_go_back_up_to_the_first() -> None:
    box = make_box(make_user(), "a@example.test")
    add_many(box.inbox, 12)
    listing = Listing((box.inbox.pk,))
    first = page(listing, size=5)
    second = page(listing, after=first.older, size=5)
    third = page(listing, after=second.older, size=5)

    back = page(listing, before=third.newer, size=5)
    top = page(listing, before=back.newer, size=5)

    assert [row.id for row in back.rows] == [row.id for row in second.rows]
    assert back.newer is not None and back.older is not None
    assert [row.id for row in top.rows] == [row.id for row in first.rows]
    assert top.newer is None


def test_hidden_and_undated_locations_are_left_out() -> None:
    box = make_box(make_user(), "a@example.test")
    shown = add_mail(box.inbox, "Shown")
    MessageLocation.objects.filter(pk=add_mail(box.inbox, "Deleted").pk).update(is_deleted=True)
    MessageLocation.objects.filter(pk=add_mail(box.inbox, "No date").pk).update(sort_date=None)

    assert [row.id for row in page(Listing((box.inbox.pk,))).rows] == [shown.pk]


def test_new_rows_above_a_cursor_come_nearest_first_reversed() -> None:
    box = make_box(make_user(), "a@example.test")
    old = add_mail(box.inbox, "Old", date=BASE)
    for minutes in (1, 2, 3):
        add_mail(box.inbox, f"New {minutes}", date=BASE + dt.timedelta(minutes=minutes))
    listing = Listing((box.inbox.pk,))

    assert subjects(newer_rows(listing, Cursor(BASE, old.pk))) == ["New 3", "New 2", "New 1"]
    assert subjects(newer_rows(listing, Cursor(BASE, old.pk), size=2)) == ["New 2", "New 1"]


def test_a_conversation_is_one_row_with_its_newest_message_and_a_count() -> None:
    box = make_box(make_user(), "a@example.test")
    thread = Thread.objects.create(account=box.account, subject_key="plans")
    first = add_mail(box.inbox, "Plans", thread=thread, seen=True, date=BASE)
    last = add_mail(
        box.inbox, "Re: Plans", thread=thread, attachments=True, date=BASE + dt.timedelta(hours=2)
    )
    add_mail(box.folders[FolderRole.ARCHIVE], "Re: Plans (archived)", thread=thread)
    alone = add_mail(box.inbox, "Alone", date=BASE + dt.timedelta(hours=1))

    rows = page(Listing((box.inbox.pk,), threads=True)).rows

    assert [(row.id, row.count) for row in rows] == [(last.pk, 2), (alone.pk, 1)]
    assert rows[0].location_ids == [last.pk, first.pk]
    assert rows[0].selection == f"{last.pk},{first.pk}"
    assert rows[0].has_attachments and not rows[0].is_seen


def test_the_sidebar_orders_special_folders_first_and_nests_children() -> None:
    user = make_user()
    box = make_box(user, "a@example.test")
    account = box.account
    work = Folder.objects.create(
        account=account, name="INBOX/Work", delimiter="/", parent=box.inbox
    )
    Folder.objects.create(account=account, name="zebra", delimiter="/")
    Folder.objects.create(account=account, name="Apples", delimiter="/")
    Folder.objects.create(account=account, name="Sent", role=FolderRole.SENT, delimiter="/")
    Folder.objects.create(account=account, name="Drafts", role=FolderRole.DRAFTS, delimiter="/")
    add_mail(work, "Unread at work")
    make_box(make_user("bob"), "b@example.test")  # somebody else's

    bar = sidebar(user)

    (item,) = bar.accounts
    in_order = ["Inbox", "Drafts", "Sent", "Archive", "Junk", "Trash", "Apples", "zebra"]
    assert [f.label for f in item.folders] == in_order
    assert [(f.label, f.unread) for f in item.folders[0].children] == [("Work", 1)]
    assert [f.label for f in item.all_folders][:2] == ["Inbox", "Work"]
    assert bar.unified_unread == 0
    assert [f.id for f in bar.named("work")] == [work.pk]
    assert [f.id for f in bar.named("spam")] == [box.folders[FolderRole.JUNK].pk]
