"""The sidebar and the message lists: unified inbox, one folder, pages, conversations, polling."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import User
from mailbox.models import Folder, FolderRole, Thread
from tests.views.list_support import BASE, Box, add_mail, add_many, make_box, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def alice() -> User:
    return make_user("alice", time_zone="Europe/Paris")


@pytest.fixture
def browser(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture(autouse=True)
def _no_sync_tasks() -> mock.MagicMock:
    with mock.patch("mailbox.tasks.sync.sync_folder_task.delay") as delay:
        yield delay


def row_subjects(html: str) -> list[str]:
    return re.findall(r'<span class="subject">([^<]*)</span>', html)


def cursor_link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" rel="{rel}"', html)
    return found[1].replace("&amp;", "&") if found else None


def test_home_is_the_unified_inbox(browser: Client) -> None:
    assert browser.get(reverse("home"))["Location"] == reverse("mail:inbox")


def test_somebody_without_an_account_is_pointed_to_add_one(browser: Client) -> None:
    html = browser.get(reverse("mail:inbox")).content.decode()

    assert "Add an account" in html
    assert reverse("accounts:mail_accounts") in html


def test_the_unified_inbox_shows_every_inbox_marked_by_account(
    browser: Client, alice: User
) -> None:
    home, work = make_box(alice, "alice@home.test"), make_box(alice, "alice@work.test")
    add_mail(home.inbox, "From home", date=BASE)
    add_mail(work.inbox, "From work", date=BASE + dt.timedelta(minutes=1))
    add_mail(home.folders[FolderRole.ARCHIVE], "Archived")
    bobs = make_box(make_user("bob"), "bob@bob.test")
    add_mail(bobs.inbox, "Bob's secret")

    html = browser.get(reverse("mail:inbox")).content.decode()

    assert row_subjects(html) == ["From work", "From home"]
    assert 'class="marker account-1" title="alice@work.test"' in html
    assert '<span class="visually-hidden">alice@home.test:</span>' in html
    assert "Bob" not in html and "bob@bob.test" not in html
    assert 'aria-current="page"' in html  # "All inboxes" in the sidebar


def test_rows_say_what_they_show_in_words(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@home.test")
    # 23:30 UTC is half past midnight the next day in Paris.
    add_mail(box.inbox, "", seen=True, date=dt.datetime(2023, 3, 4, 23, 30, tzinfo=dt.UTC))
    add_mail(box.inbox, "Marked", flagged=True, attachments=True, body="The snippet")

    html = browser.get(reverse("mail:folder", args=[box.inbox.pk])).content.decode()

    assert row_subjects(html) == ["Marked", "(no subject)"]
    assert '<span class="visually-hidden">Unread: </span>Ann Lee' in html
    assert html.count("Unread: ") == 1
    assert '<span class="visually-hidden">Starred</span>' in html
    assert '<span class="visually-hidden">Has attachments</span>' in html
    assert '<span class="snippet">The snippet</span>' in html
    assert 'datetime="2023-03-05T00:30:00+01:00"' in html
    assert ">5 Mar 2023</time>" in html
    assert 'title="alice@home.test"' not in html  # one account: no markers in the rows


def test_a_folder_lists_its_own_mail_and_another_persons_folder_is_404(
    browser: Client, alice: User
) -> None:
    box = make_box(alice, "alice@home.test")
    add_mail(box.inbox, "In the inbox")
    add_mail(box.folders[FolderRole.ARCHIVE], "In the archive")
    bobs = make_box(make_user("bob"), "bob@bob.test")

    html = browser.get(reverse("mail:folder", args=[box.folders["archive"].pk])).content.decode()

    assert row_subjects(html) == ["In the archive"]
    assert f'id="sb-folder-{box.folders["archive"].pk}" href' in html
    assert browser.get(reverse("mail:folder", args=[bobs.inbox.pk])).status_code == 404


def test_the_sidebar_shows_unread_counts_and_refreshes_alone(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@home.test")
    work = Folder.objects.create(
        account=box.account, name="INBOX/Work", delimiter="/", parent=box.inbox
    )
    add_mail(box.inbox, "One")
    add_mail(box.inbox, "Two")
    add_mail(work, "Three")

    html = browser.get(reverse("mail:sidebar")).content.decode()

    assert html.lstrip().startswith('<div id="sidebar-body"')
    assert "<details" not in html
    assert re.search(r'All inboxes</span><span class="count">.*?>2<', html)
    assert re.search(rf'sb-folder-{work.pk}".*?Work</span><span class="count">.*?>1<', html, re.S)
    assert "alice@home.test" in html


def test_opening_a_folder_asks_for_its_sync_once_a_while(
    browser: Client,
    alice: User,
    settings: Settings,
    _no_sync_tasks: mock.MagicMock,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    settings.MAIL_OPEN_SYNC_MIN_SECONDS = 60
    box = make_box(alice, "alice@home.test")
    url = reverse("mail:folder", args=[box.inbox.pk])

    with django_capture_on_commit_callbacks(execute=True):
        browser.get(url)
        browser.get(url)
        browser.get(url, {"since": "0_0"})  # polls never ask
    assert [call.args for call in _no_sync_tasks.call_args_list] == [(box.inbox.pk,)]

    settings.MAIL_OPEN_SYNC_MIN_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        browser.get(url)
    assert _no_sync_tasks.call_count == 2


def test_pages_of_fifty_newest_first_without_gap_or_overlap(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@home.test")
    add_many(box.inbox, 120)
    url = reverse("mail:folder", args=[box.inbox.pk])

    first = browser.get(url).content.decode()
    second = browser.get(url + cursor_link(first, "next")).content.decode()
    third = browser.get(url + cursor_link(second, "next")).content.decode()
    back = browser.get(url + cursor_link(third, "prev")).content.decode()

    expected = [f"Message {n}" for n in range(120)]
    assert row_subjects(first) + row_subjects(second) + row_subjects(third) == expected
    assert cursor_link(first, "prev") is None and cursor_link(third, "next") is None
    assert row_subjects(back) == row_subjects(second)
    assert "OFFSET" not in cursor_link(first, "next") and "after=" in cursor_link(first, "next")


def test_a_broken_cursor_shows_the_first_page(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@home.test")
    add_many(box.inbox, 3)
    url = reverse("mail:folder", args=[box.inbox.pk])

    for bad in ("1; DROP TABLE x", "-", "9" * 40, "1_2_3"):
        response = browser.get(url, {"after": bad})
        assert response.status_code == 200
        assert row_subjects(response.content.decode()) == ["Message 0", "Message 1", "Message 2"]


def conversation(box: Box) -> Thread:
    thread = Thread.objects.create(account=box.account, subject_key="plans")
    for n in range(3):
        add_mail(box.inbox, f"Plans {n}", thread=thread, date=BASE + dt.timedelta(hours=n))
    return thread


def test_the_conversation_view_is_remembered_and_counts_messages(
    browser: Client, alice: User
) -> None:
    box = make_box(alice, "alice@home.test")
    thread = conversation(box)
    add_mail(box.inbox, "Alone", date=BASE + dt.timedelta(minutes=30))
    url = reverse("mail:folder", args=[box.inbox.pk])

    threads = browser.get(url, {"view": "threads"}).content.decode()
    remembered = browser.get(reverse("mail:inbox")).content.decode()
    messages = browser.get(url, {"view": "messages"}).content.decode()

    assert row_subjects(threads) == ["Plans 2", "Alone"]
    assert '3<span class="visually-hidden"> messages</span>' in threads
    assert reverse("mail:thread", args=[thread.pk]) in threads
    assert row_subjects(remembered) == ["Plans 2", "Alone"]
    assert row_subjects(messages) == ["Plans 2", "Plans 1", "Alone", "Plans 0"]


def test_polling_brings_only_newer_mail(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@home.test")
    add_mail(box.inbox, "Seen already", date=BASE)
    html = browser.get(reverse("mail:inbox")).content.decode()
    poll = re.search(r'hx-get="([^"]*since=[^"]*)"', html)[1]

    assert browser.get(poll).status_code == 204
    add_mail(box.inbox, "Just in", date=BASE + dt.timedelta(minutes=5))
    response = browser.get(poll, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()

    assert response.status_code == 200
    assert row_subjects(fragment) == ["Just in"]
    assert 'hx-swap-oob="afterbegin:#rows"' in fragment
    assert "1 new message" in fragment
    newer_poll = re.search(r'hx-get="([^"]*since=[^"]*)"', fragment)[1]
    assert newer_poll != poll and browser.get(newer_poll).status_code == 204


def test_a_flood_of_new_mail_redraws_the_first_page(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@home.test")
    add_mail(box.inbox, "Seen already", date=BASE)
    html = browser.get(reverse("mail:inbox")).content.decode()
    poll = re.search(r'hx-get="([^"]*since=[^"]*)"', html)[1]
    add_many(box.inbox, 60, start=BASE + dt.timedelta(days=1))

    response = browser.get(poll, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-poll")

    assert response["HX-Retarget"] == "#mail-list" and response["HX-Reswap"] == "innerHTML"
    assert row_subjects(response.content.decode())[:2] == ["Message 0", "Message 1"]
    assert "since=" not in re.search(r'name="next" value="([^"]*)"', response.content.decode())[1]


def test_polling_in_conversations_replaces_the_old_row_of_a_thread(
    browser: Client, alice: User
) -> None:
    box = make_box(alice, "alice@home.test")
    thread = conversation(box)
    html = browser.get(reverse("mail:inbox"), {"view": "threads"}).content.decode()
    poll = re.search(r'hx-get="([^"]*since=[^"]*)"', html)[1]
    add_mail(box.inbox, "Plans 3", thread=thread, date=BASE + dt.timedelta(hours=5))

    fragment = browser.get(poll, HTTP_HX_REQUEST="true").content.decode()

    assert f'hx-swap-oob="delete:.thread-{thread.pk}"' in fragment
    assert row_subjects(fragment) == ["Plans 3"]
    assert fragment.index("delete:") < fragment.index("afterbegin:")


def test_htmx_gets_the_list_alone_with_the_sidebar_out_of_band(
    browser: Client, alice: User
) -> None:
    make_box(alice, "alice@home.test")

    html = browser.get(
        reverse("mail:inbox"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="mail-list"
    ).content.decode()

    assert "<html" not in html and 'id="rows"' in html
    assert 'id="sidebar-body"' in html and 'hx-swap-oob="true"' in html


@pytest.mark.parametrize("view", ["messages", "threads"])
@pytest.mark.parametrize("where", ["inbox", "folder", "search"])
def test_a_page_costs_the_same_queries_whatever_it_holds_and_never_offset(
    browser: Client, alice: User, view: str, where: str
) -> None:
    def queries(count: int) -> list[str]:
        User.objects.filter(pk=alice.pk).update(username=f"alice-{count}")
        person = make_user(f"p{count}")
        boxes = [make_box(person, f"p{count}@one.test"), make_box(person, f"p{count}@two.test")]
        for box in boxes:
            add_many(box.inbox, count)
        thread = Thread.objects.create(account=boxes[0].account)
        add_mail(boxes[0].inbox, "Message thread", thread=thread)
        add_mail(boxes[0].inbox, "Message thread", thread=thread)
        client = Client()
        client.force_login(person)
        client.get(reverse("mail:inbox"), {"view": view})  # the session remembers the view
        url = {
            "inbox": reverse("mail:inbox"),
            "folder": reverse("mail:folder", args=[boxes[0].inbox.pk]),
            "search": reverse("mail:search") + "?q=message+is:unread",
        }[where]
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        assert len(row_subjects(html)) >= min(count, 5)
        return [query["sql"] for query in captured.captured_queries]

    few, many = queries(5), queries(60)

    assert len(few) == len(many)
    assert not [sql for sql in few + many if "OFFSET" in sql.upper()]
