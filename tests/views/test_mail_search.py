"""Search: the box's language (mailbox/selectors/query.py) and its results in the list."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mailbox.models import Folder, FolderRole
from mailbox.selectors.query import MAX_QUERY, SearchQuery, parse
from tests.views.list_support import BASE, Box, add_mail, make_box, make_user

# --- The language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SearchQuery()),
        ("   ", SearchQuery()),
        ("hello world", SearchQuery(words=("hello", "world"))),
        ("from:ann", SearchQuery(senders=("ann",))),
        ('from:"Ann Lee" hi', SearchQuery(words=("hi",), senders=("Ann Lee",))),
        ("FROM:Ann To:bob@x.test", SearchQuery(senders=("Ann",), recipients=("bob@x.test",))),
        ('subject:"Re: plans"', SearchQuery(subjects=("Re: plans",))),
        ("has:attachment has:attachments", SearchQuery(has_attachment=True)),
        ("is:unread is:starred", SearchQuery(unread=True, starred=True)),
        ("is:read is:flagged", SearchQuery(unread=False, starred=True)),
        ('in:archive in:"My Folder"', SearchQuery(folders=("archive", "My Folder"))),
        ("before:2024-05-01", SearchQuery(before=dt.date(2024, 5, 1))),
        ("after:2024/1/31", SearchQuery(after=dt.date(2024, 1, 31))),
        ('"two words" three', SearchQuery(words=("two words", "three"))),
        # What it does not know stays words: nothing typed is dropped silently.
        ("label:work", SearchQuery(words=("label:work",))),
        ("is:important has:nothing", SearchQuery(words=("is:important", "has:nothing"))),
        (
            "before:2024-02-30 after:yesterday",
            SearchQuery(words=("before:2024-02-30", "after:yesterday")),
        ),
        ("from: ann", SearchQuery(words=("from:", "ann"))),
        ('from:"" x', SearchQuery(words=("from", "x"))),
        ("http://example.test/a?b", SearchQuery(words=("http://example.test/a?b",))),
    ],
)
def test_the_search_language(text: str, expected: SearchQuery) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"""',
        'from:"unclosed',
        "from:\x00ann",
        "\x00\x01\x7f\u2028\u202e",
        "from:%_\\",
        "in:../../etc",
        "' OR 1=1 --",
        "subject:" + "x" * 5000,
        "a:" * 400,
        'é:x ü:"y" 日本:語',
        "before:9999-99-99 after:0000-01-01",
        "is:" + "\ud800",
    ],
)
def test_hostile_input_parses_into_something_safe(text: str) -> None:
    query = parse(text)

    values = [*query.words, *query.senders, *query.recipients, *query.subjects, *query.folders]
    assert all("\x00" not in value and value == value.strip() and value for value in values)
    assert all(len(value) <= 200 for value in values)
    assert sum(map(len, values)) <= MAX_QUERY


def test_an_unclosed_quote_runs_to_the_end() -> None:
    assert parse('from:"Ann Lee').senders == ("Ann Lee",)


# --- Results ----------------------------------------------------------------------------------


@pytest.fixture
def alice() -> User:
    return make_user("alice", time_zone="America/New_York")


@pytest.fixture
def browser(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def mail(alice: User) -> Box:
    """Alice's mail, each message findable by one operator; bob has the same words."""
    box = make_box(alice, "alice@home.test")
    add_mail(box.inbox, "Quarterly report", sender=("Zoë Ünal", "zoe@corp.test"), body="figures")
    add_mail(
        box.inbox,
        "Lunch",
        to=[("Ann Lee", "ann@lee.test")],
        cc=[("Ëmil", "emil@x.test")],
        seen=True,
        body="sandwiches at noon",
    )
    add_mail(box.inbox, "Holiday photos", attachments=True, seen=True, flagged=True)
    add_mail(box.folders[FolderRole.ARCHIVE], "Old invoice", seen=True, body="paid")
    add_mail(box.folders[FolderRole.TRASH], "Deleted invoice", seen=True)
    # 03:30 UTC on 1 June is still 31 May in New York.
    add_mail(box.inbox, "Late night", seen=True, date=dt.datetime(2024, 6, 1, 3, 30, tzinfo=dt.UTC))
    bobs = make_box(make_user("bob"), "bob@bob.test")
    for subject in ("Quarterly report bob", "Old invoice bob", "Lunch bob"):
        add_mail(bobs.inbox, subject, body="figures sandwiches paid")
    return box


def found(browser: Client, query: str) -> list[str]:
    response = browser.get(reverse("mail:search"), {"q": query})
    assert response.status_code == 200
    return sorted(re.findall(r'<span class="subject">([^<]*)</span>', response.content.decode()))


@pytest.mark.django_db
@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ("figures", ["Quarterly report"]),
        ("sandwich", ["Lunch"]),  # the last word is a prefix: results while typing
        ("quarterly figures", ["Quarterly report"]),
        ("invoice", ["Old invoice"]),  # Trash is left out unless asked for
        ("from:zoe", ["Quarterly report"]),
        ('from:"Zoë Ünal"', ["Quarterly report"]),
        ("to:ann", ["Lunch"]),
        ("to:Ëmil", ["Lunch"]),  # Cc counts, and letters beyond ASCII
        ("subject:photos", ["Holiday photos"]),
        ('subject:"quarterly report"', ["Quarterly report"]),
        ("has:attachment", ["Holiday photos"]),
        ("is:unread", ["Quarterly report"]),
        ("is:starred", ["Holiday photos"]),
        ("in:archive", ["Old invoice"]),
        ("in:trash invoice", ["Deleted invoice"]),
        ("in:Archive in:INBOX is:read", ["Holiday photos", "Late night", "Lunch", "Old invoice"]),
        ("after:2024-06-01", []),  # in New York it arrived on 31 May
        ("after:2024-05-31", ["Late night"]),
        ("before:2024-05-31", ["Holiday photos", "Lunch", "Old invoice", "Quarterly report"]),
        ("from:ann is:unread subject:nothing", []),
        ("label:x", []),  # unknown operators are words, found nowhere
        ("from:%", []),
        ("in:nowhere", []),
    ],
)
def test_each_operator_finds_its_mail_and_nobody_elses(
    browser: Client, mail: Box, query: str, subjects: list[str]
) -> None:
    assert found(browser, query) == subjects


@pytest.mark.django_db
@pytest.mark.both_databases
def test_results_say_where_they_are_and_an_unknown_folder_says_so(
    browser: Client, mail: Box
) -> None:
    html = browser.get(reverse("mail:search"), {"q": "invoice"}).content.decode()
    nowhere = browser.get(reverse("mail:search"), {"q": "in:nowhere"}).content.decode()
    empty = browser.get(reverse("mail:search")).content.decode()

    assert '<span class="visually-hidden">in </span>Archive' in html
    assert 'value="invoice"' in html  # the box keeps the query
    assert "No folder is called “nowhere”." in nowhere
    assert "Type words to look for" in empty


@pytest.mark.django_db
@pytest.mark.both_databases
def test_results_come_in_keyset_pages(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@home.test")
    for n in range(55):
        add_mail(box.inbox, f"Needle {n:02}", date=BASE - dt.timedelta(hours=n))

    first = browser.get(reverse("mail:search"), {"q": "needle"}).content.decode()
    older = re.search(r'<a href="([^"]*)" rel="next"', first)[1].replace("&amp;", "&")
    second = browser.get(reverse("mail:search") + older).content.decode()

    subjects = re.findall(r'<span class="subject">([^<]*)</span>', first + second)
    assert subjects == [f"Needle {n:02}" for n in range(55)]
    assert "q=needle" in older and "after=" in older


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_gmail_account_is_searched_in_all_mail_once(browser: Client, alice: User) -> None:
    box = make_box(alice, "alice@gmail.test")
    everything = Folder.objects.create(account=box.account, name="[Gmail]/All Mail", role="all")
    location = add_mail(box.inbox, "Labelled twice")
    location.pk = None
    location.folder, location.uid = everything, location.uid + 1000
    location.save()  # the same content under a second label

    assert found(browser, "labelled") == ["Labelled twice"]
