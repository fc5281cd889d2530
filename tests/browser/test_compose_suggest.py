"""Address suggestions and saved responses in a real browser (issue 6, point 1): typing in
To offers the person's correspondents in a combobox worked with the keyboard, and a saved
response goes in where the cursor is, in the plain text body or the rich text editor. No page
may break the CSP."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from mailbox.models import Folder, FolderRole, SavedResponse
from mailbox.protocols.types import Security, Server
from mailbox.services.correspondents import record_written_to, refresh_from_messages
from tests.accounts.factories import make_account
from tests.browser.mail_support import BrowserWatch, sign_in
from tests.harness.messages import BASE_DATE
from tests.views.auth_support import make_user
from tests.views.message_support import deliver, mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens


def person_with_mail() -> User:
    """Alice: Bob wrote to her, and she wrote to Boris most recently (so he comes first)."""
    user = make_user()
    account = make_account(user, "alice@example.test", incoming=NOWHERE, smtp=NOWHERE)
    inbox = Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    deliver(inbox, mail(sender="Bob <bob@example.test>", date=BASE_DATE), body=False)
    refresh_from_messages(account.pk)
    record_written_to(user, [("Boris", "boris@example.test")])
    return user


def open_compose(page: Page, base_url: str, user: User) -> None:
    sign_in(page, base_url, user)
    page.goto(f"{base_url}/mail/compose/")


def test_a_person_picks_a_suggested_address_with_the_keyboard(
    page: Page, live_server: Any, seen: BrowserWatch
) -> None:
    open_compose(page, live_server.url, person_with_mail())
    to = page.get_by_role("combobox", name="To", exact=True)

    to.press_sequentially("bo")
    options = page.get_by_role("listbox", name="Suggested addresses").get_by_role("option")
    expect(options).to_have_text(["Boris boris@example.test", "Bob bob@example.test"])
    expect(to).to_have_attribute("aria-expanded", "true")
    to.press("ArrowDown")
    to.press("ArrowDown")
    expect(to).to_have_attribute("aria-activedescendant", "suggest-to-1")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    to.press("Enter")  # takes Bob; does not send

    expect(to).to_have_value("Bob <bob@example.test>, ")
    expect(to).to_have_attribute("aria-expanded", "false")
    expect(page).to_have_url(f"{live_server.url}/mail/compose/")
    to.press_sequentially("bor")
    expect(options).to_have_text(["Boris boris@example.test"])
    to.press("ArrowDown")
    to.press("Tab")
    expect(to).to_have_value("Bob <bob@example.test>, Boris <boris@example.test>, ")
    to.press_sequentially("bo")
    expect(options).to_have_count(2)
    to.press("Escape")
    expect(to).to_have_attribute("aria-expanded", "false")
    expect(options).to_have_count(0)
    expect(to).to_have_value("Bob <bob@example.test>, Boris <boris@example.test>, bo")
    cc = page.get_by_role("combobox", name="Cc", exact=True)
    cc.press_sequentially("b")  # one letter: nothing asked
    page.wait_for_timeout(400)
    expect(page.get_by_role("listbox")).to_have_count(0)
    cc.press_sequentially("or")
    expect(options).to_have_count(1)
    expect(cc).to_have_attribute("aria-controls", "suggest-cc")
    cc.press("Enter")  # nothing highlighted: the first, and the message is not sent
    expect(cc).to_have_value("Boris <boris@example.test>, ")
    expect(page).to_have_url(f"{live_server.url}/mail/compose/")
    seen.settle(page)


def test_a_saved_response_goes_in_at_the_cursor(
    page: Page, live_server: Any, seen: BrowserWatch
) -> None:
    user = person_with_mail()
    SavedResponse.objects.create(user=user, name="Hello", body="Hi there")
    SavedResponse.objects.create(user=user, name="Thanks", body="Thank you!\nSee you soon.")
    open_compose(page, live_server.url, user)
    body = page.get_by_label("Message", exact=True)
    body.fill("Dear Ann,\n\nBest, Alice")
    body.evaluate("area => area.setSelectionRange(11, 11)")  # after "Dear Ann,\n\n"

    page.get_by_label("Saved response").select_option(label="Thanks")
    page.get_by_role("button", name="Insert saved response").click()

    expect(body).to_have_value("Dear Ann,\n\nThank you!\nSee you soon.Best, Alice")
    # In the rich text editor, where its caret is.
    page.get_by_label("Rich text").check()
    editor = page.get_by_role("textbox", name="Message", exact=True)
    editor.click()
    page.keyboard.press("Control+End")
    page.get_by_label("Saved response").select_option(label="Hello")
    page.get_by_role("button", name="Insert saved response").click()
    expect(editor).to_contain_text("Best, AliceHi there")
    expect(page.locator("input[name=html]")).to_have_value(re.compile("Best, AliceHi there"))
    seen.settle(page)
