"""/signup/: closed unless ACCOUNTS_OPEN_SIGNUP; validated names, addresses and passwords."""

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from tests.views.auth_support import make_user

pytestmark = pytest.mark.django_db
GOOD = {
    "username": "newcomer",
    "email": "newcomer@example.test",
    "password1": "a long and unusual passphrase",
    "password2": "a long and unusual passphrase",
}


@pytest.fixture
def open_signup(settings: Settings) -> None:
    settings.ACCOUNTS_OPEN_SIGNUP = True


def test_it_is_closed_by_default(client: Client) -> None:
    assert client.get("/signup/").status_code == 404
    assert client.post("/signup/", GOOD).status_code == 404
    assert not User.objects.filter(username="newcomer").exists()
    assert b"Create an account" not in client.get("/login/").content


def test_when_open_it_creates_the_account_and_signs_in(client: Client, open_signup: None) -> None:
    assert b'href="/signup/"' in client.get("/login/").content

    response = client.post("/signup/", GOOD)

    assert response["Location"] == "/"
    user = User.objects.get(username="newcomer")
    assert user.email == "newcomer@example.test"
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert client.get("/", follow=True).context["user"] == user


def test_it_checks_passwords_with_the_validators(client: Client, open_signup: None) -> None:
    response = client.post("/signup/", {**GOOD, "password1": "newcomer1", "password2": "newcomer1"})

    assert b"too similar to the username" in response.content or b"too short" in response.content
    assert not User.objects.filter(username="newcomer").exists()


def test_it_checks_the_two_passwords_match(client: Client, open_signup: None) -> None:
    response = client.post("/signup/", {**GOOD, "password2": "something else entirely"})

    assert b"didn\xe2\x80\x99t match" in response.content


def test_it_checks_the_address_with_email_validator(client: Client, open_signup: None) -> None:
    response = client.post("/signup/", {**GOOD, "email": "newcomer@@example"})

    assert b"email" in response.content.lower()
    assert response.context["form"].has_error("email")
    assert not User.objects.filter(username="newcomer").exists()


def test_it_refuses_a_taken_name_or_address(client: Client, open_signup: None) -> None:
    alice = make_user()

    by_name = client.post("/signup/", {**GOOD, "username": alice.username.upper()})
    by_address = client.post("/signup/", {**GOOD, "email": alice.email.upper()})

    assert by_name.context["form"].has_error("username")
    assert by_address.context["form"].has_error("email", "taken")


def test_a_signed_in_person_is_sent_home(client: Client, open_signup: None) -> None:
    client.force_login(make_user())

    assert client.get("/signup/")["Location"] == "/"
