import pytest
from playwright.sync_api import Page, expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"


def sign_in_to_admin(page: Page, base_url: str, password: str) -> None:
    User.objects.create_superuser("root", "root@example.test", PASSWORD)
    page.goto(f"{base_url}/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_signs_in_through_the_browser(live_server, page: Page) -> None:
    sign_in_to_admin(page, live_server.url, PASSWORD)

    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page.get_by_role("link", name="Users", exact=True)).to_be_visible()


def test_a_wrong_password_is_refused_with_a_message(live_server, page: Page) -> None:
    sign_in_to_admin(page, live_server.url, "wrong")

    expect(page.get_by_text("Please enter the correct username and password")).to_be_visible()
