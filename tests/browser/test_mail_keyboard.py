"""The keyboard shortcuts of the mail screen (static/mail-keys.js), in a real browser.

Mail is written straight into the database (no mail servers): three messages in alice's inbox,
with real bodies so that they open. The account points at a closed loopback port, so the syncs
and replays the pages ask for can never reach anything. Every test ends by checking that no
page reported a Content-Security-Policy violation or an uncaught script error.
"""

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from accounts.models import User
from mailbox.models import Folder, FolderRole, MessageLocation
from mailbox.protocols.types import Security, Server
from tests.accounts.factories import make_account
from tests.browser.mail_support import PHONE
from tests.harness.messages import BASE_DATE
from tests.views.message_support import deliver, mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens: a sync fails at once
SUBJECTS = ["Third", "Second", "First"]  # newest first, as the list shows them


@dataclass
class Watch:
    """What the browser reported while a test ran."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def csp_reports(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(message.text)


@dataclass
class Inbox:
    page: Page
    base: str
    locations: dict[str, MessageLocation]

    @property
    def url(self) -> str:
        return f"{self.base}/mail/"

    def rows(self) -> Locator:
        return self.page.locator("#rows > li.row")

    def row(self, subject: str) -> Locator:
        return self.page.locator(f"#rows > li#row-{self.locations[subject].pk}")

    def current(self) -> Locator:
        return self.page.locator('#rows > li.row[aria-current="true"]')


def arrive(page: Page, url: str | re.Pattern[str]) -> None:
    """At `url`, with the shortcuts script running (it unhides the help button, which a phone
    folds away with the sidebar): a key pressed after a navigation but before the deferred
    script ran would be lost."""
    expect(page).to_have_url(url)
    expect(page.locator(".keys-hint")).to_have_count(1)
    expect(page.locator(".keys-hint[hidden]")).to_have_count(0)


@pytest.fixture
def watch(page: Page) -> Iterator[Watch]:
    seen = Watch()
    page.on("console", seen.on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    yield seen
    assert seen.csp_reports == []
    assert seen.errors == []


@pytest.fixture
def inbox(page: Page, live_server: Any, watch: Watch) -> Iterator[Inbox]:
    user = User.objects.create_user("alice")
    account = make_account(user, "alice@example.test", incoming=NOWHERE, smtp=NOWHERE)
    folder = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    Folder.objects.create(account=account, name="Archive", role=FolderRole.ARCHIVE)
    Folder.objects.create(account=account, name="Trash", role=FolderRole.TRASH)
    locations = {}
    for hours, subject in enumerate(reversed(SUBJECTS)):
        raw = mail(
            subject=subject,
            text=f"The {subject.lower()} message.\n",
            message_id=f"<{subject.lower()}@sender.test>",
            date=BASE_DATE + dt.timedelta(hours=hours),
        )
        locations[subject] = deliver(folder, raw)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    found = Inbox(page, live_server.url, locations)
    page.goto(found.url)
    expect(found.rows()).to_have_count(3)
    yield found
    # The last key may have started a request: let the server finish it before the database
    # is emptied (on SQLite a request still writing would hold the emptying up).
    page.wait_for_load_state("networkidle")


def test_j_and_k_move_the_current_row_and_enter_opens_it(inbox: Inbox) -> None:
    page = inbox.page
    expect(inbox.current()).to_have_count(0)

    page.keyboard.press("j")
    expect(inbox.current()).to_have_attribute("id", f"row-{inbox.locations['Third'].pk}")
    expect(inbox.row("Third").locator("a.row-link")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last row
    expect(inbox.current()).to_have_attribute("id", f"row-{inbox.locations['First'].pk}")
    page.keyboard.press("k")
    expect(inbox.current()).to_have_attribute("id", f"row-{inbox.locations['Second'].pk}")
    expect(inbox.current()).to_have_count(1)

    # A wide screen opens it in the pane beside the list; its heading takes the focus.
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{inbox.base}/mail/m/{inbox.locations['Second'].pk}/")
    second = page.locator("#mail-pane").get_by_role("heading", name="Second", exact=True)
    expect(second).to_be_focused()
    expect(inbox.rows()).to_have_count(3)

    page.keyboard.press("u")  # back to the current row, the message still open beside it
    expect(inbox.row("Second").locator("a.row-link")).to_be_focused()
    expect(second).to_be_visible()
    page.keyboard.press("k")
    expect(inbox.current()).to_have_attribute("id", f"row-{inbox.locations['Third'].pk}")
    page.keyboard.press("o")
    expect(page).to_have_url(f"{inbox.base}/mail/m/{inbox.locations['Third'].pk}/")
    third = page.locator("#mail-pane").get_by_role("heading", name="Third", exact=True)
    expect(third).to_be_focused()
    page.keyboard.press("Escape")  # Esc in the pane does what u does
    expect(inbox.row("Third").locator("a.row-link")).to_be_focused()
    expect(inbox.current()).to_have_count(1)


def test_on_a_phone_enter_opens_the_message_page_and_u_comes_back(inbox: Inbox) -> None:
    page = inbox.page
    page.set_viewport_size(PHONE)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    arrive(page, f"{inbox.base}/mail/m/{inbox.locations['Second'].pk}/")
    expect(page.get_by_role("heading", name="Second", exact=True)).to_be_visible()
    expect(page.locator("#rows")).to_have_count(0)

    page.keyboard.press("u")
    arrive(page, inbox.url)
    page.keyboard.press("k")  # with no current row: the first
    page.keyboard.press("o")
    arrive(page, f"{inbox.base}/mail/m/{inbox.locations['Third'].pk}/")


def test_u_goes_back_to_the_list_it_came_from_and_g_i_to_the_inbox(inbox: Inbox) -> None:
    page = inbox.page
    page.set_viewport_size(PHONE)  # messages open on their own pages
    page.goto(f"{inbox.base}/mail/search/?q=second")
    expect(inbox.rows()).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("o")
    arrive(page, re.compile(r"/mail/m/\d+/$"))

    page.keyboard.press("u")
    arrive(page, f"{inbox.base}/mail/search/?q=second")

    page.keyboard.press("g")
    page.keyboard.press("i")
    arrive(page, inbox.url)

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    arrive(page, re.compile(r"/mail/m/\d+/$"))
    page.keyboard.press("/")  # no search box on a message page: the search page, ready to type
    arrive(page, f"{inbox.base}/mail/search/")
    expect(page.get_by_role("searchbox", name="Search mail")).to_be_focused()


def test_s_stars_and_e_archives_the_current_row(inbox: Inbox) -> None:
    page = inbox.page
    page.keyboard.press("j")
    page.keyboard.press("s")
    expect(inbox.row("Third").locator(".mark.star")).to_be_visible()
    assert MessageLocation.objects.get(pk=inbox.locations["Third"].pk).is_flagged
    # The list was swapped: the row is current again and has the focus back.
    expect(inbox.current()).to_have_attribute("id", f"row-{inbox.locations['Third'].pk}")
    expect(inbox.row("Third").locator("a.row-link")).to_be_focused()

    page.keyboard.press("s")  # again: the star goes
    expect(inbox.row("Third").locator(".mark.star")).to_have_count(0)

    page.keyboard.press("e")
    expect(inbox.row("Third")).to_have_count(0)
    expect(inbox.rows()).to_have_count(2)
    expect(page.get_by_text("Archived 1 message.")).to_be_visible()
    # The next message takes its place as the current row, focused.
    expect(inbox.current()).to_have_attribute("id", f"row-{inbox.locations['Second'].pk}")
    expect(inbox.row("Second").locator("a.row-link")).to_be_focused()
    archived = MessageLocation.objects.filter(
        message=inbox.locations["Third"].message, is_deleted=False
    ).get()
    assert archived.folder.role == FolderRole.ARCHIVE


def test_shift_u_marks_unread_and_hash_deletes(inbox: Inbox) -> None:
    page = inbox.page
    page.goto(f"{inbox.base}/mail/m/{inbox.locations['First'].pk}/")  # opening marks it read
    page.keyboard.press("u")
    arrive(page, inbox.url)
    expect(inbox.row("First")).not_to_have_class(re.compile(r"\bunread\b"))

    inbox.row("First").locator("a.row-link").focus()  # Tab or a click makes a row current
    expect(inbox.current()).to_have_attribute("id", f"row-{inbox.locations['First'].pk}")
    page.keyboard.press("Shift+U")
    expect(inbox.row("First")).to_have_class(re.compile(r"\bunread\b"))

    page.keyboard.press("#")
    expect(inbox.row("First")).to_have_count(0)
    assert not MessageLocation.objects.filter(
        message=inbox.locations["First"].message, folder__role=FolderRole.INBOX, is_deleted=False
    ).exists()


def test_keys_on_a_message_page_act_on_that_message(inbox: Inbox) -> None:
    page = inbox.page
    second = inbox.locations["Second"]
    page.goto(f"{inbox.base}/mail/m/{second.pk}/")
    page.keyboard.press("s")
    expect(page.get_by_text("Starred 1 message.")).to_be_visible()
    arrive(page, f"{inbox.base}/mail/m/{second.pk}/")
    assert MessageLocation.objects.get(pk=second.pk).is_flagged

    page.keyboard.press("e")  # archived: back to the list it came from
    arrive(page, inbox.url)
    expect(page.get_by_text("Archived 1 message.")).to_be_visible()
    expect(inbox.rows()).to_have_count(2)
    expect(inbox.row("Second")).to_have_count(0)


def test_slash_focuses_search_and_typing_there_is_not_a_shortcut(inbox: Inbox) -> None:
    page = inbox.page
    search = page.get_by_role("searchbox", name="Search mail")
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the "/" itself was not typed

    page.keyboard.type("jjk")
    expect(search).to_have_value("jjk")
    expect(inbox.current()).to_have_count(0)
    arrive(page, inbox.url)


def test_question_mark_opens_the_help_and_escape_closes_it(inbox: Inbox) -> None:
    page = inbox.page
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog.get_by_text("Mark unread")).to_be_visible()
    page.keyboard.press("j")  # the dialog is modal: the list underneath stays as it was
    expect(inbox.current()).to_have_count(0)
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.get_by_role("button", name="Keyboard shortcuts").click()  # also by mouse
    expect(help_dialog).to_be_visible()
    help_dialog.get_by_role("button", name="Close").click()
    expect(help_dialog).to_be_hidden()


def test_reply_without_an_open_message_says_so(inbox: Inbox) -> None:
    page = inbox.page
    page.keyboard.press("r")  # c opens compose: tests/browser/test_compose_flow.py
    notice = page.get_by_role("status").filter(has_text="Open a message first")
    expect(notice).to_be_visible()
    page.keyboard.press("Control+j")  # with a modifier held: not a shortcut
    expect(inbox.current()).to_have_count(0)
