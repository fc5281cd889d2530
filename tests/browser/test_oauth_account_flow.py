"""A person adds a Gmail account by signing in with Google in a real browser (issue 7)."""

import email
import email.policy
import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings

from accounts.discovery import providers
from accounts.models import MailAccount, User
from mailbox.services.sync import sync_account
from tests.browser.mail_support import BrowserWatch, sign_in
from tests.harness import messages
from tests.harness.celery_worker import CeleryWorker
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.oauth_authorization import CLIENT_ID, CLIENT_SECRET, AuthorizationServer
from tests.views.auth_support import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WELCOME = "Welcome to your new inbox"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """The suite's page, in a context that ignores certificate errors.

    The provider's certificate comes from the test CA, which the product trusts through
    SSL_CERT_FILE; Chromium trusts its own NSS store instead, and loading the CA there would
    take a private NSS database for one test. Only the provider speaks HTTPS here (the live
    server is plain HTTP), and the product's own calls to it (the code exchange) still check
    its certificate against the test CA.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800}, ignore_https_errors=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def google(
    authorization_server: AuthorizationServer, settings: Settings, tmp_path: Path, live_server: Any
) -> AuthorizationServer:
    """The local provider as Google, asking the person for consent, with this app registered.

    The redirect URI is SITE_URL plus the callback's path (accounts/services/oauth.py), so
    SITE_URL is the live server's: the provider sends the browser back to it.
    """
    authorization_server.reset()
    authorization_server.ask_consent = True
    settings.OAUTH_PROVIDERS_FILE = authorization_server.data_file(tmp_path / "oauth.json")
    settings.SITE_URL = live_server.url
    settings.OAUTH_GOOGLE_CLIENT_ID = CLIENT_ID
    settings.OAUTH_GOOGLE_CLIENT_SECRET = CLIENT_SECRET
    return authorization_server


@pytest.fixture(scope="module")
def gmail_servers(oauth_mail_servers: Callable[..., MailServers]) -> MailServers:
    """Dovecot and Postfix holding gmail.com mailboxes, signing in with the provider's tokens."""
    return oauth_mail_servers(domains=("gmail.com", "example.test"))


@pytest.fixture
def gmail_on_fixture_servers(
    gmail_servers: MailServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The built-in provider table with Gmail's IMAP and SMTP servers on `gmail_servers`.

    A new OAuth account takes its servers from this table (providers.DATA_FILE), which no
    setting names: OAUTH_PROVIDERS_FILE only moves the OAuth endpoints.
    """
    e = gmail_servers.endpoints
    table = json.loads(providers.DATA_FILE.read_text(encoding="utf-8"))
    [gmail] = [entry for entry in table["providers"] if entry["id"] == "gmail"]
    gmail["incoming"] = [
        {"protocol": "imap", "host": e.host, "port": e.imaps_port, "security": "tls"}
    ]
    gmail["outgoing"] = [{"host": e.host, "port": e.submissions_port, "security": "tls"}]
    path = tmp_path / "providers.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    monkeypatch.setattr(providers, "DATA_FILE", path)
    providers.load_providers.cache_clear()  # read once and cached: both sides of the test
    yield
    providers.load_providers.cache_clear()


@pytest.fixture
def gmail_user(gmail_servers: MailServers) -> MailUser:
    """A gmail.com mailbox holding one message; its password is never typed anywhere."""
    user = gmail_servers.add_user(
        f"alice-{secrets.token_hex(4)}@gmail.com", secrets.token_urlsafe(12)
    )
    envelope = messages.Envelope(subject=WELCOME, message_id=f"<{secrets.token_hex(8)}@gmail>")
    gmail_servers.seed(user.address, [messages.plain_text(envelope)])
    return user


@pytest.fixture
def person(page: Page, live_server: Any, seen: BrowserWatch) -> User:
    user = make_user()
    sign_in(page, live_server.url, user)
    return user


def sign_in_with_google(page: Page, base_url: str, address: str, provider_url: str) -> None:
    """Add account, the address, "Sign in with Google": up to the provider's consent page."""
    page.goto(f"{base_url}/settings/accounts/")
    page.get_by_role("link", name="Add account").click()
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Find settings").click()
    page.get_by_role("button", name="Sign in with Google").click()
    expect(page).to_have_url(re.compile(re.escape(f"{provider_url}/google/authorize?")))
    expect(page.get_by_text(f"wants to read and send mail as {address}")).to_be_visible()


def send_from_compose(page: Page, base_url: str, to: str, subject: str) -> None:
    page.goto(f"{base_url}/mail/compose/")
    page.get_by_label("To", exact=True).fill(to)
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message", exact=True).fill("Signed in with Google, no password.")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(f"{base_url}/mail/")


@pytest.mark.usefixtures("gmail_on_fixture_servers")
def test_allowing_access_adds_an_account_that_syncs_and_sends(
    page: Page,
    live_server: Any,
    person: User,
    google: AuthorizationServer,
    gmail_servers: MailServers,
    gmail_user: MailUser,
    celery_worker: CeleryWorker,
) -> None:
    bob = gmail_servers.add_user(f"bob-{secrets.token_hex(4)}@example.test", "bobs-password")

    sign_in_with_google(page, live_server.url, gmail_user.address, google.base_url)
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{live_server.url}/settings/accounts/")
    expect(page.get_by_text(f"{gmail_user.address} is signed in.")).to_be_visible()
    expect(page.get_by_role("link", name=gmail_user.address)).to_be_visible()
    account = MailAccount.objects.get(user=person)
    assert account.email == gmail_user.address
    assert account.incoming_password_encrypted == ""  # only the provider's tokens sign in

    # The background sync's work, done here so the test knows when it is over.
    assert sync_account(account.pk).error == ""
    page.goto(f"{live_server.url}/mail/")
    expect(page.locator("li.row .subject", has_text=WELCOME)).to_be_visible()

    subject = f"Sent with a token {secrets.token_hex(3)}"
    send_from_compose(page, live_server.url, bob.address, subject)  # the worker sends it
    [delivered] = gmail_servers.wait_for_messages(bob.address, 1, timeout=30)
    headers = email.message_from_bytes(delivered.raw, policy=email.policy.default)
    assert headers["Subject"] == subject
    assert gmail_user.address in str(headers["From"])


@pytest.mark.usefixtures("gmail_on_fixture_servers")
def test_denying_access_explains_it_and_adds_no_account(
    page: Page, live_server: Any, person: User, google: AuthorizationServer, gmail_user: MailUser
) -> None:
    sign_in_with_google(page, live_server.url, gmail_user.address, google.base_url)
    page.get_by_role("button", name="Deny").click()

    expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/settings/accounts/oauth/")))
    expect(page.get_by_role("heading", name="Sign-in not completed")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "The provider did not grant access (access_denied)."
    )
    assert not MailAccount.objects.exists()
    assert google.token_requests == []
