"""/login/ and /logout/: signing in with a password, out with a POST, and the cookies."""

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.auth_throttle import KNOWN_DEVICE_COOKIE
from tests.views.auth_support import PASSWORD, make_user, production_values, sign_in

pytestmark = pytest.mark.django_db


def test_it_shows_the_sign_in_form_with_labels(client: Client) -> None:
    response = client.get("/login/")

    assert response.status_code == 200
    assert b'<label for="id_username">User name' in response.content
    assert b'<label for="id_password">Password' in response.content
    assert b'href="/password/reset/"' in response.content


def test_it_signs_in_and_goes_home(client: Client) -> None:
    alice = make_user()

    response = sign_in(client, alice)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/", follow=True).context["user"] == alice


def test_it_follows_a_safe_next_and_refuses_a_foreign_one(client: Client) -> None:
    alice = make_user()
    data = {"username": alice.username, "password": PASSWORD}

    assert client.post("/login/?next=/preferences/", data)["Location"] == "/preferences/"
    client.logout()
    assert client.post("/login/?next=https://evil.example/", data)["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message(client: Client) -> None:
    alice = make_user()

    response = sign_in(client, alice, "not the password")

    assert response.status_code == 200
    assert b"That user name and password do not match" in response.content
    assert "_auth_user_id" not in client.session


def test_pages_send_strangers_to_our_sign_in_page(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_a_signed_in_person_is_sent_on_from_the_sign_in_page(client: Client) -> None:
    client.force_login(make_user())

    assert client.get("/login/")["Location"] == "/"


def test_it_signs_out_with_a_post_only(client: Client) -> None:
    alice = make_user()
    client.force_login(alice)

    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/", follow=True)

    assert response.redirect_chain == [("/login/", 302)]
    assert b"You are signed out." in response.content
    assert client.get("/")["Location"].startswith("/login/")


def test_signing_out_one_person_leaves_another_signed_in() -> None:
    alice_browser, bob_browser = Client(), Client()
    alice_browser.force_login(make_user("alice"))
    bob_browser.force_login(make_user("bob"))

    alice_browser.post("/logout/")

    assert bob_browser.get("/", follow=True).status_code == 200


def test_the_browser_becomes_a_known_device_for_that_name(client: Client) -> None:
    alice = make_user()

    response = sign_in(client, alice)

    cookie = response.cookies[KNOWN_DEVICE_COOKIE]
    assert cookie["httponly"] is True
    assert alice.username not in cookie.value  # keyed digest, not the name


def test_session_cookie_is_secure_and_http_only_in_production(
    client: Client, settings: Settings
) -> None:
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True

    response = sign_in(client, make_user())

    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert int(session["max-age"]) == settings.SESSION_COOKIE_AGE
    assert response.cookies[KNOWN_DEVICE_COOKIE]["secure"] is True


def test_production_settings_default_to_secure_short_lived_sessions() -> None:
    secure, http_only, age, login_url = production_values(
        "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_AGE", "LOGIN_URL"
    )

    assert (secure, http_only, login_url) == (True, True, "accounts:login")
    assert age == 7 * 24 * 60 * 60
