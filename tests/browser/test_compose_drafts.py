"""Drafts in a real browser against the real Dovecot (issue 6, point 3): typing saves the draft
("Draft saved" in the status line) here and in the account's Drafts folder; the draft opens
again from the Drafts folder's list, "Edit draft" brings it back into compose, and going on
typing replaces it: the server holds one draft, with the latest text. No Celery worker runs:
the draft tasks run in the web request (the live server is this process). No CSP breaks."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from mailbox.models import Draft, Folder, FolderRole
from mailbox.protocols import mime
from mailbox.services.sync import sync_account
from mailbox.tasks import drafts as draft_tasks
from mailbox.tasks.drafts import remove_server_draft_task, store_server_draft_task
from tests.browser.mail_support import BrowserWatch, sign_in, synced_account
from tests.harness.mailservers import MailServers, MailUser, StoredMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class RunsHere:
    """A task whose .delay runs it at once, in the request that enqueued it."""

    def __init__(self, task: Any) -> None:
        self.task = task

    def delay(self, *args: Any) -> None:
        self.task.apply(args=args)


@pytest.fixture(autouse=True)
def quick_drafts(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MAIL_DRAFT_SAVE_SECONDS = 0.3
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 5
    monkeypatch.setattr(draft_tasks, "store_server_draft_task", RunsHere(store_server_draft_task))
    monkeypatch.setattr(draft_tasks, "remove_server_draft_task", RunsHere(remove_server_draft_task))


def wait_for_server_draft(
    servers: MailServers, mailbox: MailUser, text: str
) -> list[StoredMessage]:
    """The Drafts folder once it holds exactly one draft, with `text` (saves may still run)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = servers.messages(mailbox.address, folder="Drafts")
        if len(found) == 1 and mime.parse_message(found[0].raw).text.strip() == text:
            return found
        time.sleep(0.1)
    raise AssertionError(f"the Drafts folder holds {found!r}")


def test_a_draft_is_saved_while_typing_reopened_from_the_drafts_list_and_replaced(
    page: Page,
    live_server: Any,
    seen: BrowserWatch,
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
) -> None:
    mailbox = mail_user(local="writer")
    user = User.objects.create_user("writer")
    account = synced_account(user, mailbox, mail_servers)
    sign_in(page, live_server.url, user)
    status = page.get_by_role("status").filter(has_text="Draft saved")
    body = page.locator("textarea[name=text]")  # the plain text body ("Message")

    page.goto(f"{live_server.url}/mail/compose/")
    page.get_by_label("To", exact=True).fill("Bob <bob@example.test>")
    page.get_by_label("Subject").fill("Plans for June")
    body.fill("First thoughts.")
    expect(status).to_be_visible()
    [first] = wait_for_server_draft(mail_servers, mailbox, "First thoughts.")
    assert "\\Draft" in first.flags

    assert sync_account(account.pk).error == ""  # as the background sync brings it in
    drafts_folder = Folder.objects.get(account=account, role=FolderRole.DRAFTS)
    page.goto(f"{live_server.url}/mail/folder/{drafts_folder.pk}/")
    page.locator("li.row", has_text="Plans for June").locator("a.row-link").click()
    expect(page.get_by_role("heading", name="Plans for June", level=1)).to_be_visible()
    page.get_by_role("link", name="Edit draft").click()

    expect(body).to_have_value("First thoughts.")
    expect(page.get_by_label("Subject")).to_have_value("Plans for June")
    body.fill("First thoughts, then second ones.")
    expect(status).to_be_visible()

    [copy] = wait_for_server_draft(mail_servers, mailbox, "First thoughts, then second ones.")
    assert mime.parse_message(copy.raw).message_id == Draft.objects.get().message_id
    assert "\\Draft" in copy.flags and copy.uid != first.uid
    page.wait_for_timeout(500)  # no later save brings a second copy
    assert len(mail_servers.messages(mailbox.address, folder="Drafts")) == 1
    seen.settle(page)
