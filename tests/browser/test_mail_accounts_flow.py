"""A person adds mail accounts by address and password alone, in a real browser."""

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.models import MailAccount, User
from tests.harness.dns import LocalDnsServer
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in_page(page: Page, live_server: Any) -> Page:
    """A browser whose session belongs to alice (signing in itself is tested elsewhere)."""
    client = Client()
    client.force_login(User.objects.create_user("alice", password="pw-for-tests"))
    session_id = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session_id, "url": live_server.url}]
    )
    return page


@pytest.fixture
def named_servers(
    mail_servers: MailServers, dns_server: LocalDnsServer, settings: Any
) -> MailServers:
    for name in ("imap.example.test", "smtp.example.test"):
        dns_server.set(name, "A", STANDARD_HOST)
    settings.MAIL_DNS_SERVER = dns_server.address
    return mail_servers


def add_account(page: Page, base_url: str, user: MailUser) -> None:
    page.goto(f"{base_url}/settings/accounts/")
    page.get_by_role("link", name="Add account").click()
    page.get_by_label("Email address").fill(user.address)
    page.get_by_label("Password", exact=True).fill(user.password)
    page.get_by_role("button", name="Find settings").click()
    expect(page.get_by_label("Incoming server")).to_have_value("imap.example.test")
    expect(page.get_by_label("Outgoing (SMTP) server")).to_have_value("smtp.example.test")
    page.get_by_role("button", name="Save account").click()
    expect(page.get_by_role("heading", name="Mail accounts")).to_be_visible()
    expect(page.get_by_role("link", name=user.address)).to_be_visible()


def test_add_test_edit_add_another_and_remove(
    signed_in_page: Page,
    live_server: Any,
    named_servers: MailServers,
    mail_user: Callable[..., MailUser],
) -> None:
    page, first, second = signed_in_page, mail_user(), mail_user()

    add_account(page, live_server.url, first)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Both servers accepted the sign-in.")).to_be_visible()

    page.get_by_role("link", name=first.address).click()
    page.get_by_label("Your name").fill("Alice Example")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text(f"The settings of {first.address} were saved.")).to_be_visible()

    add_account(page, live_server.url, second)
    assert MailAccount.objects.count() == 2

    page.get_by_role("link", name=first.address).click()
    page.get_by_role("link", name="Remove this account").click()
    page.get_by_role("button", name="Remove account").click()
    expect(page.get_by_text(f"The account {first.address} was removed.")).to_be_visible()
    expect(page.get_by_role("link", name=second.address)).to_be_visible()
    assert list(MailAccount.objects.values_list("email", flat=True)) == [second.address]
    assert MailAccount.objects.get().identities.count() == 1


def test_a_wrong_password_is_explained_in_the_page(
    signed_in_page: Page,
    live_server: Any,
    named_servers: MailServers,
    mail_user: Callable[..., MailUser],
) -> None:
    page, user = signed_in_page, mail_user()
    page.goto(f"{live_server.url}/settings/accounts/add/")
    page.get_by_label("Email address").fill(user.address)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Find settings").click()
    page.get_by_role("button", name="Save account").click()

    expect(page.get_by_text("did not accept the user name or password").first).to_be_visible()
    # The typed password stays in the form (htmx swapped only the result).
    expect(page.get_by_label("Password", exact=True)).to_have_value("not-the-password")
    assert not MailAccount.objects.exists()


def test_the_add_account_page_fits_a_360_pixel_phone(
    signed_in_page: Page, live_server: Any
) -> None:
    page = signed_in_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/settings/accounts/add/")

    expect(page.get_by_label("Email address")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
