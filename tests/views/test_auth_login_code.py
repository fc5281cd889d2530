"""/login/code/: the second step for people with two-factor sign-in."""

import time

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from tests.views.auth_support import (
    PASSWORD,
    fast_delays,
    make_user,
    next_code,
    sign_in,
    turn_on_two_factor,
    wrong_code,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings: Settings) -> None:
    fast_delays(settings)


def test_the_right_password_leads_to_the_code_step_not_into_the_app(client: Client) -> None:
    alice = make_user()
    turn_on_two_factor(alice)

    response = sign_in(client, alice)

    assert response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/login/")
    page = client.get("/login/code/")
    assert b"Code from your authenticator app" in page.content


@pytest.mark.both_databases
def test_the_right_code_signs_in_verified(client: Client) -> None:
    alice = make_user()
    device = turn_on_two_factor(alice)
    sign_in(client, alice)

    response = client.post("/login/code/", {"code": next_code(device)})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    assert client.get("/", follow=True).status_code == 200


def test_next_survives_the_code_step(client: Client) -> None:
    alice = make_user()
    device = turn_on_two_factor(alice)
    client.post("/login/?next=/preferences/", {"username": alice.username, "password": PASSWORD})

    response = client.post("/login/code/", {"code": next_code(device)})

    assert response["Location"] == "/preferences/"


def test_a_wrong_code_is_refused_with_a_message(client: Client) -> None:
    alice = make_user()
    device = turn_on_two_factor(alice)
    sign_in(client, alice)

    response = client.post("/login/code/", {"code": wrong_code(device)})

    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert "_auth_user_id" not in client.session


def test_a_code_is_accepted_only_once(client: Client) -> None:
    alice = make_user()
    device = turn_on_two_factor(alice)
    code = next_code(device)
    sign_in(client, alice)
    client.post("/login/code/", {"code": code})
    client.post("/logout/")
    sign_in(client, alice)

    response = client.post("/login/code/", {"code": code})

    assert b"That code is not right" in response.content


def test_wrong_codes_count_as_failed_sign_ins(client: Client) -> None:
    alice = make_user()
    device = turn_on_two_factor(alice)
    sign_in(client, alice)
    for _ in range(2):
        client.post("/login/code/", {"code": wrong_code(device)})

    response = client.post("/login/code/", {"code": wrong_code(device)})

    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert sign_in(Client(), alice).status_code == 429  # password step, same name and IP


def test_the_code_step_expires(client: Client, settings: Settings) -> None:
    settings.ACCOUNTS_SIGN_IN_CODE_SECONDS = 0
    alice = make_user()
    device = turn_on_two_factor(alice)
    sign_in(client, alice)
    time.sleep(0.01)

    response = client.post("/login/code/", {"code": next_code(device)}, follow=True)

    assert response.redirect_chain == [("/login/", 302)]
    assert b"Please sign in with your password first" in response.content
    assert "_auth_user_id" not in client.session


def test_without_a_password_step_there_is_no_code_step(client: Client) -> None:
    assert client.get("/login/code/")["Location"] == "/login/"


def test_one_persons_code_step_cannot_be_finished_with_anothers_code(client: Client) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    turn_on_two_factor(alice)
    bobs_device = turn_on_two_factor(bob)
    sign_in(client, alice)

    response = client.post("/login/code/", {"code": next_code(bobs_device)})

    assert b"That code is not right" in response.content
    assert "_auth_user_id" not in client.session
