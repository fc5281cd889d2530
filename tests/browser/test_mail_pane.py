"""The reading pane in a real browser (issue 5, point 1): a wide screen opens a message beside
the list (static/mail-select.js), a phone opens its own page, and a message page loaded by
itself has no empty column.

Mail is written straight into the database (no mail servers), unread, with real bodies; the
account points at a closed loopback port, so the syncs the pages ask for reach nothing. Every
test ends by checking that no page broke the app's Content-Security-Policy or raised.
"""

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from mailbox.models import Folder, FolderRole, MessageLocation, Thread
from mailbox.protocols.types import Security, Server
from tests.accounts.factories import make_account
from tests.browser.mail_support import PHONE, BrowserWatch, sign_in
from tests.harness.messages import BASE_DATE
from tests.views.auth_support import make_user
from tests.views.message_support import deliver, mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens: a sync fails at once
WIDE = {"width": 1280, "height": 800}
SUBJECTS = ["Third", "Second", "First"]  # newest first, as the list shows them
EMPTY_COLUMN = 40  # px: wider than this, a column without content is a hole in the page


@dataclass
class Mailbox:
    page: Page
    base: str
    inbox: Folder
    locations: dict[str, MessageLocation]
    thread: Thread

    @property
    def list_url(self) -> str:
        return f"{self.base}/mail/folder/{self.inbox.pk}/"

    def message_url(self, subject: str) -> str:
        return f"{self.base}/mail/m/{self.locations[subject].pk}/"

    def row(self, subject: str) -> Locator:
        return self.page.locator(f"#rows > li#row-{self.locations[subject].pk}")


@pytest.fixture
def mailbox(page: Page, live_server: Any, seen: BrowserWatch) -> Iterator[Mailbox]:
    user = make_user()
    account = make_account(user, "alice@example.test", incoming=NOWHERE, smtp=NOWHERE)
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    locations = {}
    for hours, subject in enumerate(reversed(SUBJECTS)):
        raw = mail(
            subject=subject,
            text=f"The {subject.lower()} message.\n",
            message_id=f"<{subject.lower()}@sender.test>",
            date=BASE_DATE + dt.timedelta(hours=hours),
        )
        locations[subject] = deliver(inbox, raw)
    thread = Thread.objects.create(account=account, subject_key="plans")
    for hours, subject in ((-3, "Plans"), (-2, "Re: Plans")):
        raw = mail(
            subject=subject,
            text=f"{subject}: see you there.\n",
            message_id=f"<plans{hours}@sender.test>",
            date=BASE_DATE + dt.timedelta(hours=hours),
        )
        locations[subject] = deliver(inbox, raw, thread=thread)
    Folder.objects.filter(pk=inbox.pk).update(unread_count=len(locations))  # as a sync counts
    sign_in(page, live_server.url, user)
    yield Mailbox(page, live_server.url, inbox, locations, thread)
    # The last click may have started a request: let the server finish it before the database
    # is emptied (on SQLite a request still writing would hold the emptying up).
    seen.settle(page)


def arrive(page: Page, url: str | re.Pattern[str]) -> None:
    """At `url`, with the mail scripts running (mail-keys.js unhides the help button, which a
    phone folds away with the sidebar)."""
    expect(page).to_have_url(url)
    expect(page.locator(".keys-hint")).to_have_count(1)
    expect(page.locator(".keys-hint[hidden]")).to_have_count(0)


def columns(page: Page) -> list[dict[str, float]]:
    """The visible columns of the mail screen: their boxes and the box of what is in them."""
    return page.evaluate(
        """() => Array.from(document.querySelector('.mail-layout').children)
          .filter(column => column.getClientRects().length && column.offsetWidth > 0)
          .map(column => {
            const box = column.getBoundingClientRect();
            const inside = Array.from(column.querySelectorAll('*'))
              .filter(e => e.getClientRects().length && e.offsetWidth > 0)
              .map(e => e.getBoundingClientRect());
            return {id: column.id, x: box.x, width: box.width, content: inside.length,
                    right: inside.length ? Math.max(...inside.map(b => b.right)) : box.x};
          })"""
    )


def assert_no_empty_column(page: Page) -> list[str]:
    """Every visible column has content; they fill the width with no hole between them."""
    found = columns(page)
    width = page.viewport_size["width"] if page.viewport_size else 0
    for column in found:
        assert column["content"] > 0 or column["width"] <= EMPTY_COLUMN, column
    edges = [0.0] + [c["x"] + c["width"] for c in found]
    for left, column in zip(edges, found, strict=False):
        assert column["x"] - left <= EMPTY_COLUMN, found
    assert width - edges[-1] <= EMPTY_COLUMN, found
    return [column["id"] for column in found]


def test_a_wide_screen_opens_the_message_beside_the_list(mailbox: Mailbox) -> None:
    page = mailbox.page
    page.goto(mailbox.list_url)
    row = mailbox.row("Second")
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    expect(row.locator("a.row-link")).to_contain_text("Unread")  # said to screen readers
    expect(page.locator(".mail-pane")).to_be_hidden()

    row.locator("a.row-link").click()
    heading = page.locator("#mail-pane").get_by_role("heading", name="Second", level=1)
    expect(heading).to_be_visible()
    expect(heading).to_be_focused()  # a screen reader announces the message
    expect(page).to_have_url(mailbox.message_url("Second"))
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()  # the list stays
    expect(row).to_be_visible()
    expect(row).not_to_have_class(re.compile(r"\bunread\b"))
    expect(row.locator("a.row-link")).not_to_contain_text("Unread")
    expect(row).to_have_attribute("aria-current", "true")
    body = page.frame_locator("#mail-pane iframe.message-frame").locator("body")
    expect(body).to_contain_text("The second message.")
    assert MessageLocation.objects.get(pk=mailbox.locations["Second"].pk).is_seen
    # The sidebar's count follows at once: 5 unread, one read now.
    expect(page.locator(f"#sb-folder-{mailbox.inbox.pk} .count")).to_contain_text("4")
    assert assert_no_empty_column(page) == ["mail-sidebar", "mail-list", "mail-pane"]
    list_box, pane_box = page.locator("#mail-list").bounding_box(), heading.bounding_box()
    assert list_box and pane_box and pane_box["x"] >= list_box["x"] + list_box["width"]

    mailbox.row("Third").locator("a.row-link").click()  # another row replaces it
    expect(page.locator("#mail-pane").get_by_role("heading", name="Third")).to_be_focused()
    expect(page).to_have_url(mailbox.message_url("Third"))
    expect(page.locator("#rows > li.row[aria-current]")).to_have_count(1)
    expect(mailbox.row("Third")).to_have_attribute("aria-current", "true")


def test_back_and_forward_load_the_list_and_the_message(mailbox: Mailbox) -> None:
    page = mailbox.page
    page.goto(mailbox.list_url)
    mailbox.row("First").locator("a.row-link").click()
    expect(page.locator("#mail-pane").get_by_role("heading", name="First")).to_be_focused()
    expect(page).to_have_url(mailbox.message_url("First"))

    page.go_back()
    arrive(page, mailbox.list_url)
    expect(mailbox.row("First")).to_be_visible()
    expect(mailbox.row("First")).not_to_have_class(re.compile(r"\bunread\b"))  # afresh
    expect(page.locator(".mail-pane")).to_be_hidden()  # the list alone again
    assert assert_no_empty_column(page) == ["mail-sidebar", "mail-list"]

    page.go_forward()  # the message's own page: sidebar and message, no hole for a list
    arrive(page, mailbox.message_url("First"))
    expect(page.get_by_role("heading", name="First", level=1)).to_be_visible()
    expect(page.frame_locator("iframe.message-frame").locator("body")).to_contain_text("first")
    assert assert_no_empty_column(page) == ["mail-sidebar", "mail-pane"]

    page.go_back()
    arrive(page, mailbox.list_url)
    expect(mailbox.row("Third")).to_be_visible()


def test_a_conversation_opens_beside_the_list_and_turns_read(mailbox: Mailbox) -> None:
    page = mailbox.page
    page.goto(f"{mailbox.list_url}?view=threads")
    row = page.locator(f"#rows > li.thread-{mailbox.thread.pk}")
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    row.locator("a.row-link").click()
    heading = page.locator("#mail-pane").get_by_role("heading", name="Plans", level=1)
    expect(heading).to_be_focused()
    expect(page).to_have_url(f"{mailbox.base}/mail/thread/{mailbox.thread.pk}/")
    expect(page.locator("#mail-pane")).to_contain_text("2 messages")
    expect(row).not_to_have_class(re.compile(r"\bunread\b"))
    expect(page.locator("#mail-list")).to_be_visible()


def test_a_phone_opens_the_message_on_its_own_page(mailbox: Mailbox) -> None:
    page = mailbox.page
    page.set_viewport_size(PHONE)
    page.goto(mailbox.list_url)
    with page.expect_navigation():
        mailbox.row("Second").locator("a.row-link").click()
    arrive(page, mailbox.message_url("Second"))
    expect(page.get_by_role("heading", name="Second", level=1)).to_be_visible()
    expect(page.locator("#mail-list")).to_have_count(0)
    expect(page.locator("#mail-sidebar")).to_be_hidden()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]

    page.go_back()
    arrive(page, mailbox.list_url)
    expect(mailbox.row("Second")).not_to_have_class(re.compile(r"\bunread\b"))


def test_a_message_or_conversation_page_by_itself_has_no_empty_column(mailbox: Mailbox) -> None:
    page = mailbox.page
    for url in (mailbox.message_url("Second"), f"{mailbox.base}/mail/thread/{mailbox.thread.pk}/"):
        page.goto(url)
        expect(page.locator("#mail-pane h1")).to_be_visible()
        assert assert_no_empty_column(page) == ["mail-sidebar", "mail-pane"]
        pane = page.locator("#mail-pane").bounding_box()
        assert pane and pane["width"] > WIDE["width"] * 0.6  # the message takes the room


def test_a_click_with_a_modifier_or_a_failed_pane_is_left_to_the_browser(
    mailbox: Mailbox,
) -> None:
    page = mailbox.page
    page.goto(mailbox.list_url)
    with page.context.expect_page() as opened:
        mailbox.row("Second").locator("a.row-link").click(modifiers=["ControlOrMeta"])
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == mailbox.message_url("Second")
    tab.close()
    expect(page).to_have_url(mailbox.list_url)
    expect(page.locator(".mail-pane")).to_be_hidden()

    # Gone since the list was shown (another tab deleted it): the row's page says so.
    MessageLocation.objects.filter(pk=mailbox.locations["First"].pk).update(is_deleted=True)
    with page.expect_navigation():
        mailbox.row("First").locator("a.row-link").click()
    expect(page).to_have_url(mailbox.message_url("First"))
    expect(page.locator(".mail-layout")).to_have_count(0)  # the 404 page, not a broken pane


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [WIDE, PHONE], ids=["wide", "phone"])
def test_screenshots(mailbox: Mailbox, scheme: str, size: dict[str, int]) -> None:
    """Pictures for a person to look at (/tmp/mail-pane-*.png); they check only that the pages
    render without errors."""
    page = mailbox.page
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size(size)
    page.goto(mailbox.list_url)
    name = f"{size['width']}-{scheme}"
    if size is WIDE:
        mailbox.row("Second").locator("a.row-link").click()
        expect(page.locator("#mail-pane h1")).to_be_focused()
        expect(page.frame_locator("iframe.message-frame").locator("body")).to_contain_text("second")
        page.screenshot(path=f"/tmp/mail-pane-{name}-list.png")
    page.goto(mailbox.message_url("Third"))
    expect(page.frame_locator("iframe.message-frame").locator("body")).to_contain_text("third")
    page.screenshot(path=f"/tmp/mail-pane-{name}-page.png")


def test_archiving_the_open_message_closes_the_pane_and_starring_does_not(
    mailbox: Mailbox,
) -> None:
    page = mailbox.page
    account = mailbox.inbox.account
    Folder.objects.create(account=account, name="Archive", role=FolderRole.ARCHIVE)
    page.goto(mailbox.list_url)
    mailbox.row("Second").locator("a.row-link").click()
    pane_heading = page.locator("#mail-pane").get_by_role("heading", name="Second", level=1)
    expect(pane_heading).to_be_visible()

    mailbox.row("Second").locator('input[name="location"]').check()
    page.get_by_role("button", name="Star", exact=True).click()
    expect(mailbox.row("Second").locator(".mark.star")).to_have_count(1)
    expect(pane_heading).to_be_visible()  # still in the list: the pane stays

    mailbox.row("Second").locator('input[name="location"]').check()
    page.get_by_role("button", name="Archive", exact=True).click()
    expect(mailbox.row("Second")).to_have_count(0)
    expect(pane_heading).to_have_count(0)
    expect(page.locator(".mail-pane")).to_be_hidden()
    expect(page).to_have_url(mailbox.list_url)
