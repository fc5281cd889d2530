"""Reading mail in a real browser, with mail synced from the real Dovecot (issue 5, point 9).

Two mailboxes (a work one on example.test, a home one on other.test) are seeded once for the
module; every test gives a new person both accounts and syncs them, then drives Chromium.
Every test ends by checking that no page broke the app's Content-Security-Policy or raised.
"""

import base64
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from accounts.models import MailAccount, User
from mailbox.models import MessageLocation, PendingAction
from mailbox.models.actions import ActionKind
from tests.browser.mail_support import (
    PHONE,
    BrowserWatch,
    CountingServer,
    new_mail_user,
    sign_in,
    synced_account,
    wait_until,
)
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.messages import ALICE, BASE_DATE, BOB, Envelope, person
from tests.views.auth_support import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRAME = "iframe.message-frame"
PIXEL = "/pixel.png"
CAROL = person("carol@photos.test", "Carol Photos")
# A file name built to mislead: folders, a line break and a right-to-left override (the
# character that makes "invoice\u202efdp.exe" show as "invoiceexe.pdf").
HOSTILE_NAME_RFC2231 = "..%2F..%2FVertrag%0D%0Aunterschrieben%E2%80%AE.pdf"


def _at(hours: int) -> dt.datetime:
    return BASE_DATE + dt.timedelta(hours=hours)


def holiday_pictures(counter: CountingServer) -> bytes:
    html = (
        "<html><body><p>The pictures from the holiday:</p>"
        f'<p><img src="{counter.url(PIXEL)}" alt="Beach" width="16" height="16"></p>'
        "<p>Carol</p></body></html>\n"
    )
    envelope = Envelope(
        sender=CAROL, subject="Holiday pictures", date=_at(2), message_id="<holiday.1@photos.test>"
    )
    return messages.html_only(envelope, html)


def scanned_contract() -> bytes:
    """A PDF whose file name tries folders, CR LF and a direction override (RFC 2231)."""
    data = base64.encodebytes(messages.pdf_bytes(800, seed=7)).decode().replace("\n", "\r\n")
    return (
        "From: Bob Example <bob@example.test>\r\n"
        "To: Alice Example <alice@example.test>\r\n"
        "Subject: Scanned contract\r\n"
        "Date: Mon, 04 Mar 2024 16:30:00 +0000\r\n"
        "Message-ID: <contract.1@example.test>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="=_contract"\r\n\r\n'
        "--=_contract\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe contract, signed.\r\n"
        "--=_contract\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: attachment; filename*=UTF-8''{HOSTILE_NAME_RFC2231}\r\n\r\n"
        f"{data}--=_contract--\r\n"
    ).encode()


def work_mail(counter: CountingServer) -> list[bytes]:
    return [
        messages.alternative(Envelope(date=_at(0), message_id="<quarterly.1@example.test>")),
        messages.with_attachments(
            Envelope(subject="Invoice and diagram", date=_at(1), message_id="<inv.1@example.test>")
        ),
        holiday_pictures(counter),
        messages.plain_text(
            Envelope(
                sender=BOB,
                to=(ALICE,),
                subject="Lunch on Friday",
                date=_at(3),
                message_id="<lunch.1@example.test>",
            ),
            body="Shall we try the new place on Friday?\n\nBob\n",
        ),
    ]


def home_mail() -> list[bytes]:
    return [
        messages.non_ascii_headers(
            Envelope(
                sender=messages.JUERGEN,
                to=(messages.YUKI, ALICE),
                date=_at(4),
                subject="Grüße aus Köln",
                message_id="<gruesse.1@other.test>",
            )
        ),
        scanned_contract(),
    ]


WORK_SUBJECTS = ["Lunch on Friday", "Holiday pictures", "Invoice and diagram", "Quarterly numbers"]
HOME_SUBJECTS = ["Scanned contract", "Grüße aus Köln"]
NEWEST_FIRST = HOME_SUBJECTS + WORK_SUBJECTS  # by their Date headers


@dataclass(frozen=True)
class Mailboxes:
    work: MailUser
    home: MailUser


@dataclass(frozen=True)
class Person:
    user: User
    work: MailAccount
    home: MailAccount


@pytest.fixture(scope="module")
def counter() -> Iterator[CountingServer]:
    with CountingServer().running() as server:
        yield server


@pytest.fixture(scope="module")
def mailboxes(mail_servers: MailServers, counter: CountingServer) -> Mailboxes:
    work = new_mail_user(mail_servers, "work")
    home = new_mail_user(mail_servers, "home", domain="other.test")
    mail_servers.seed(work.address, work_mail(counter))
    mail_servers.seed(home.address, home_mail())
    return Mailboxes(work, home)


@pytest.fixture
def reader(mailboxes: Mailboxes, mail_servers: MailServers) -> Person:
    user = make_user()
    return Person(
        user,
        synced_account(user, mailboxes.work, mail_servers),
        synced_account(user, mailboxes.home, mail_servers),
    )


@pytest.fixture
def signed_in(page: Page, live_server: Any, reader: Person, seen: BrowserWatch) -> Page:
    return sign_in(page, live_server.url, reader.user)


def row(page: Page, subject: str) -> Locator:
    return page.locator("li.row", has=page.locator(".subject", has_text=subject))


def shown_subjects(page: Page) -> list[str]:
    return page.locator("li.row .subject").all_inner_texts()


def open_message(page: Page, subject: str) -> None:
    row(page, subject).locator("a.row-link").click()
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()


def test_sign_in_lands_on_the_unified_inbox_with_both_accounts(
    page: Page, live_server: Any, reader: Person, seen: BrowserWatch
) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill(reader.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    assert urlsplit(page.url).path == "/mail/"
    assert shown_subjects(page) == NEWEST_FIRST
    for account, subjects in ((reader.work, WORK_SUBJECTS), (reader.home, HOME_SUBJECTS)):
        for subject in subjects:
            expect(row(page, subject).locator(".marker")).to_contain_text(account.email)
    sidebar = page.get_by_role("navigation", name="Accounts and folders")
    for account in (reader.work, reader.home):
        expect(sidebar.get_by_role("heading", name=account.email)).to_be_visible()


def test_opening_a_message_shows_its_headers_and_its_body_in_a_sandboxed_frame(
    signed_in: Page, live_server: Any
) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/mail/")
    open_message(page, "Quarterly numbers")

    headers = page.locator("dl.message-people")
    expect(headers).to_contain_text("Alice Example")
    expect(headers).to_contain_text("alice@example.test")
    expect(headers).to_contain_text("bob@example.test")
    expect(headers).to_contain_text("Mon 4 Mar 2024")
    frame = page.locator(FRAME)
    sandbox = (frame.get_attribute("sandbox") or "").split()
    assert sorted(sandbox) == ["allow-popups", "allow-popups-to-escape-sandbox"]
    body = page.frame_locator(FRAME).locator("body")
    expect(body).to_contain_text("the numbers for the first quarter are in")
    expect(body.locator("b")).to_have_text("first quarter")  # the HTML part, formatted

    page.get_by_text("Details", exact=True).click()
    expect(page.locator(".message-details")).to_contain_text("<quarterly.1@example.test>")


def test_remote_images_load_only_after_show_images(
    signed_in: Page, live_server: Any, counter: CountingServer, seen: BrowserWatch
) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/mail/")
    counter.reset()
    open_message(page, "Holiday pictures")
    expect(page.frame_locator(FRAME).locator("body")).to_contain_text("pictures from the holiday")
    seen.settle(page)

    show = page.get_by_role("link", name="Show images")
    expect(show).to_be_visible()
    assert counter.hits == [] and counter.connections == 0

    show.click()
    image = page.frame_locator(FRAME).get_by_role("img", name="Beach")
    expect(image).to_be_visible()
    assert wait_until(page, lambda: PIXEL in counter.paths())
    assert {hit.path for hit in counter.hits} == {PIXEL}
    assert image.evaluate("img => img.naturalWidth") == 16
    expect(page.get_by_role("link", name="Show images")).to_have_count(0)


def test_attachments_download_with_their_bytes_and_a_safe_name(
    signed_in: Page, live_server: Any
) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/mail/")
    open_message(page, "Invoice and diagram")
    pdf_name = messages.ATTACHMENT_NAMES[0]
    with page.expect_download() as info:
        page.get_by_role("link", name=pdf_name).click()
    download = info.value
    assert download.suggested_filename == pdf_name
    with open(download.path(), "rb") as saved:
        assert saved.read() == messages.pdf_bytes()

    page.goto(f"{live_server.url}/mail/")
    open_message(page, "Scanned contract")
    link = page.locator(".attachment a")
    with page.expect_download() as info:
        link.click()
    download = info.value
    name = download.suggested_filename
    assert name.endswith(".pdf") and "Vertrag" in name
    assert not set(name) & set("/\\\r\n\x00\u202e\u202d\u200e\u200f")
    assert link.inner_text() == name  # the page shows the name the file is saved under
    with open(download.path(), "rb") as saved:
        assert saved.read() == messages.pdf_bytes(800, seed=7)
    sent = page.request.get(download.url)  # a download is no "response" event: ask again
    assert sent.headers["content-disposition"].startswith("attachment;")
    assert sent.headers["x-content-type-options"] == "nosniff"
    assert sent.headers["content-type"] == "application/octet-stream"


def test_search_with_operators_shows_only_the_matching_rows(
    signed_in: Page, live_server: Any
) -> None:
    page = signed_in
    page.goto(f"{live_server.url}/mail/")
    search = page.get_by_role("searchbox", name="Search mail")

    search.fill("from:alice has:attachment")
    search.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("from:alice has:attachment")
    assert shown_subjects(page) == ["Invoice and diagram"]

    search = page.get_by_role("searchbox", name="Search mail")
    search.fill("has:attachment")
    search.press("Enter")
    expect(row(page, "Scanned contract")).to_be_visible()
    assert shown_subjects(page) == ["Scanned contract", "Invoice and diagram"]

    search = page.get_by_role("searchbox", name="Search mail")
    search.fill("from:bob lunch")
    search.press("Enter")
    expect(row(page, "Lunch on Friday")).to_be_visible()
    assert shown_subjects(page) == ["Lunch on Friday"]


def test_archiving_two_selected_messages_at_once(
    page: Page, live_server: Any, mail_servers: MailServers, seen: BrowserWatch
) -> None:
    # A mailbox of its own: with a Celery worker running, the move reaches the server too.
    mailbox = new_mail_user(mail_servers, "archive")
    subjects = ["Keep me", "Archive me too", "Archive me"]
    mail_servers.seed(
        mailbox.address,
        [
            messages.plain_text(Envelope(subject=s, date=_at(-i), message_id=f"<arch.{i}@t>"))
            for i, s in enumerate(subjects)
        ],
    )
    user = make_user()
    account = synced_account(user, mailbox, mail_servers)
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/mail/")
    assert shown_subjects(page) == subjects

    page.get_by_label("Select Archive me", exact=True).check()
    page.get_by_label("Select Archive me too").check()
    page.get_by_role("button", name="Archive").click()

    expect(page.get_by_text("Archived 2 messages.")).to_be_visible()
    expect(row(page, "Archive me too")).to_have_count(0)
    assert shown_subjects(page) == ["Keep me"]
    archive = account.folders.get(role="archive")
    page.locator(f"#sb-folder-{archive.pk}").click()
    expect(page.get_by_role("heading", name="Archive", level=1)).to_be_visible()
    assert shown_subjects(page) == ["Archive me too", "Archive me"]
    moved = MessageLocation.objects.filter(folder=archive, is_deleted=False)
    assert moved.count() == 2
    # Queued for the server: replayed by a Celery worker (already done if one is running).
    assert PendingAction.objects.filter(account=account, kind=ActionKind.MOVE).exists()


def test_the_same_pages_at_phone_width(signed_in: Page, live_server: Any, reader: Person) -> None:
    page = signed_in
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/mail/")

    expect(row(page, "Quarterly numbers")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("searchbox", name="Search mail")).to_be_visible()

    open_message(page, "Quarterly numbers")
    expect(page.frame_locator(FRAME).locator("body")).to_contain_text("first quarter")
    expect(page.locator("#mail-list")).to_be_hidden()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("link", name="Back to Inbox").click()
    expect(row(page, "Quarterly numbers")).to_be_visible()
    folders = page.get_by_role("navigation", name="Accounts and folders")
    archive = reader.home.folders.get(role="archive")
    folders.locator("summary", has_text="Folders").click()
    folders.locator(f"#sb-folder-{archive.pk}").click()
    expect(page.get_by_role("heading", name="Archive", level=1)).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
