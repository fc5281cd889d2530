"""Signing in through the browser: password, wrong password, lockout, two-factor."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings

from accounts.models import User
from tests.views.auth_support import PASSWORD, fast_delays, make_user, next_code, secret_key_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_sign_in(page: Page, base_url: str, user: User, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_person_signs_in_and_out(live_server, page: Page) -> None:
    alice = make_user(first_name="Alice", last_name="Liddell")

    fill_sign_in(page, live_server.url, alice)

    expect(page.get_by_role("heading", name="Welcome, Alice")).to_be_visible()
    nav = page.get_by_role("navigation", name="Your account")
    expect(nav.get_by_text("Alice Liddell")).to_be_visible()
    for link in ("Settings", "Two-factor", "Preferences", "Change password"):
        expect(nav.get_by_role("link", name=link)).to_be_visible()
    nav.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_wrong_password_is_refused_with_a_message(live_server, page: Page) -> None:
    fill_sign_in(page, live_server.url, make_user(), "not my password")

    expect(page.get_by_role("alert")).to_contain_text("That user name and password do not match")
    expect(page.get_by_label("Password")).to_be_empty()


def test_repeated_failures_show_the_lockout_message(
    live_server, page: Page, settings: Settings
) -> None:
    fast_delays(settings)
    alice = make_user()
    for _ in range(3):
        fill_sign_in(page, live_server.url, alice, "wrong")

    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "Too many failed sign-ins for this user name from your address"
    )
    expect(page.get_by_text("Signing in from other places is not affected.")).to_be_visible()


def test_turning_on_two_factor_then_signing_in_with_a_code(live_server, page: Page) -> None:
    alice = make_user()
    fill_sign_in(page, live_server.url, alice)
    page.get_by_role("link", name="Two-factor").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()

    key = secret_key_of(page.locator("#totp-secret").inner_text())
    page.get_by_label("Code from your authenticator app").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("Two-factor sign-in is on: you will be asked")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    fill_sign_in(page, live_server.url, alice)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    device = TOTPDevice.objects.get(user=alice, confirmed=True)
    page.get_by_label("Code from your authenticator app").fill(next_code(device))
    page.get_by_role("button", name="Verify and sign in").click()

    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
