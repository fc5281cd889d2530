"""Rich text compose in a real browser (issue 6, points 1 and 6): with "Rich text" on, the editor
named "Message" takes bold, a list and a link from its toolbar; Send goes through the real
outbox, Celery worker and Postfix, and Bob's Dovecot inbox has a multipart/alternative
message whose HTML part holds <strong>, <li> and <a href> and whose text part says the same
in plain text. Switching back to plain text puts the words in the textarea; joining lines,
quoting and pasting write no inline style; a reply to HTML mail opens in the editor with the
original quoted, its image and code gone. No page breaks a rule of the CSP or raises an
error."""

import email
import email.policy
import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings

from mailbox.models import OutgoingMessage
from tests.accounts.factories import make_account
from tests.browser.mail_support import BrowserWatch, sign_in
from tests.harness.celery_worker import CeleryWorker
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.sending import account_for, copies, settled
from tests.views.auth_support import make_user
from tests.views.message_support import deliver, mail, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def parts(raw: bytes) -> dict[str, str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return {
        part.get_content_type(): str(part.get_content()).replace("\r\n", "\n")
        for part in message.walk()
        if not part.is_multipart()
    } | {"type": message.get_content_type()}


def test_bold_a_list_and_a_link_arrive_as_html_and_text(
    page: Page,
    live_server: Any,
    seen: BrowserWatch,
    celery_worker: CeleryWorker,
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
) -> None:
    alice, bob = mail_user(local="rich-alice"), mail_user(local="rich-bob")
    account = account_for(alice, mail_servers, "rich-alice")
    sign_in(page, live_server.url, account.user)
    page.goto(f"{live_server.url}/mail/compose/")
    message_id = page.locator("input[name=message_id]").input_value()

    page.get_by_label("To", exact=True).fill(f"Bob <{bob.address}>")
    page.get_by_label("Subject").fill("Plans")
    page.get_by_label("Rich text").check()
    editor = page.get_by_label("Message", exact=True)
    expect(editor).to_have_attribute("contenteditable", "true")
    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("Hello ")
    page.get_by_role("button", name="Bold").click()
    expect(page.get_by_role("button", name="Bold")).to_have_attribute("aria-pressed", "true")
    page.keyboard.type("Bob")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type(",")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Bulleted list").click()
    page.keyboard.type("bread")
    page.keyboard.press("Enter")
    page.keyboard.type("cheese")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # an empty item ends the list
    page.keyboard.type("See the plan")
    for _ in "the plan":
        page.keyboard.press("Shift+ArrowLeft")
    page.get_by_role("button", name="Link", exact=True).click()
    page.get_by_label("Link address").fill("https://example.com/plan")
    page.get_by_role("button", name="Add link").click()
    expect(editor.get_by_role("link", name="the plan")).to_be_visible()
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(f"{live_server.url}/mail/")
    row = settled(OutgoingMessage.objects.get(message_id=message_id).pk, log=celery_worker.log())
    assert row.state == "sent", row.last_error
    [received] = copies(mail_servers, bob, message_id)
    found = parts(received.raw)
    assert found["type"] == "multipart/alternative"
    html, text = found["text/html"], found["text/plain"]
    assert re.search(r"Hello\s<strong>Bob</strong>,", html)  # the space may be &nbsp;
    assert "<li>bread</li><li>cheese</li>" in html
    assert '<a href="https://example.com/plan" rel="noopener noreferrer">the plan</a>' in html
    assert "Hello Bob,\n- bread\n- cheese\nSee the plan <https://example.com/plan>\n" in text
    seen.settle(page)


def test_switching_back_to_plain_text_keeps_the_words(
    page: Page, live_server: Any, seen: BrowserWatch
) -> None:
    user = make_user()
    make_account(user, "alice@example.test")
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/mail/compose/")

    textarea = page.locator("textarea[name=text]")
    textarea.fill("First line\n> quoted")
    page.get_by_label("Rich text").check()
    expect(textarea).to_be_hidden()
    editor = page.get_by_label("Message", exact=True)
    expect(editor).to_contain_text("First line")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Numbered list").click()
    page.keyboard.type("added")
    page.get_by_label("Rich text").uncheck()

    expect(textarea).to_be_visible()
    expect(textarea).to_have_value("First line\n> quoted\n- added")
    assert page.locator("input[name=html]").input_value() == ""
    seen.settle(page)


def test_joining_lines_quoting_and_pasting_break_no_rule_of_the_policy(
    page: Page, live_server: Any, seen: BrowserWatch
) -> None:
    user = make_user()
    make_account(user, "alice@example.test")
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/mail/compose/")
    page.get_by_label("Rich text").check()
    editor = page.get_by_label("Message", exact=True)
    editor.click()
    keys = page.keyboard
    keys.press("Control+Home")
    keys.type("plain one")
    keys.press("Enter")
    keys.type("quoted two")
    page.get_by_role("button", name="Quote").click()
    expect(page.get_by_role("button", name="Quote")).to_have_attribute("aria-pressed", "true")
    keys.press("Enter")
    keys.press("Control+b")
    keys.type("bold three")
    keys.press("Control+b")
    for key in ("Home", "Backspace", "Home", "Backspace", "Backspace"):
        keys.press(key)  # lines joined across a quote and a bold run
    page.get_by_role("button", name="Numbered list").click()
    keys.type("item")
    keys.press("Enter")
    keys.type("next")
    keys.press("Home")
    keys.press("Backspace")
    # A paste from a web page: its text comes in, not its markup (style, images, code).
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.setData("text/html", '<p style="color: red" onclick="alert(1)">pasted ' +
                '<b class="x">bold</b><img src="https://tracker.test/t.gif"></p>');
            data.setData("text/plain", "pasted bold");
            document.getElementById("compose-editor").dispatchEvent(new ClipboardEvent(
                "paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )

    expect(editor).to_contain_text("pasted bold")
    written = page.locator("input[name=html]").input_value()
    assert "pasted bold" in written and "<ol>" in written and "<b>bold three</b>" in written
    for word in ("style", "onclick", "tracker.test", "<img", "class="):
        assert word not in written, word
    assert page.locator("#compose-editor [style]").count() == 0
    seen.settle(page)


def test_a_reply_to_html_mail_opens_in_the_editor_with_the_original_quoted(
    page: Page, live_server: Any, seen: BrowserWatch, settings: Settings, tmp_path: Path
) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path
    user, account, inbox = make_person("rich-reader")
    html = (
        '<p style="color: red">Big <b>news</b></p><img src="https://tracker.test/t.gif">'
        "<script>alert(1)</script>"
    )
    location = deliver(inbox, mail(subject="News", text="Big news\n", html=html))
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/mail/compose/?reply={location.pk}")

    expect(page.get_by_label("Rich text")).to_be_checked()
    editor = page.get_by_label("Message", exact=True)
    expect(editor).to_be_visible()
    expect(editor.locator("blockquote b")).to_have_text("news")  # Squire writes <b>
    expect(editor).to_contain_text("Ann Sender <ann@sender.test> wrote:")
    assert editor.locator("img, script, [style]").count() == 0
    expect(page.locator("textarea[name=text]")).to_be_hidden()
    seen.settle(page)
