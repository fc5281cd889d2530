"""Compose in a real browser (issue 6, point 1): "c" on the inbox opens the page, the fields
are found by their labels, Send goes back to the inbox saying "Sending…", and the outbox holds
the message. No worker runs here: the task enqueued on commit waits in this run's own Redis
queue (tests/settings.py gives every run its own prefix), so nothing reaches an SMTP server;
the account's servers are a closed loopback port anyway. No page may break the CSP."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mailbox.models import Folder, FolderRole, OutgoingMessage
from mailbox.protocols.types import Security, Server
from tests.accounts.factories import make_account
from tests.browser.mail_support import BrowserWatch, sign_in
from tests.views.auth_support import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOWHERE = Server("127.0.0.1", 9, Security.TLS)  # nothing listens


def test_a_person_writes_and_sends_a_message(
    page: Page, live_server: Any, seen: BrowserWatch
) -> None:
    user = make_user()
    account = make_account(user, "alice@example.test", incoming=NOWHERE, smtp=NOWHERE)
    Folder.objects.create(account=account, name="INBOX", role=FolderRole.INBOX)
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/mail/")
    expect(page.locator(".keys-hint[hidden]")).to_have_count(0)  # the shortcuts are listening

    page.keyboard.press("c")
    expect(page).to_have_url(f"{live_server.url}/mail/compose/")
    expect(page.get_by_label("From")).to_have_value(str(account.identities.get().pk))
    page.get_by_label("To", exact=True).fill("Bob <bob@example.test>")
    page.get_by_label("Subject").fill("Lunch on Friday")
    page.get_by_label("Message", exact=True).fill("Noon at the usual place?")
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(f"{live_server.url}/mail/")
    expect(page.get_by_role("status").filter(has_text="Sending…")).to_be_visible()
    outgoing = OutgoingMessage.objects.get()
    assert outgoing.account == account and b"Subject: Lunch on Friday" in bytes(outgoing.raw)
    assert outgoing.envelope_to == ["bob@example.test"]
    seen.settle(page)
