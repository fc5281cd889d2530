"""Failed sign-ins: locked out per (user name, IP) by axes, slowed per user name by ours.

fast_delays(): lockout after 3 failures; the name is slowed after 6 failures from anywhere,
for 1, 2, 4 seconds (at most 4).
"""

import time
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from accounts import auth_throttle
from tests.views.auth_support import PASSWORD, fast_delays, make_user, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings: Settings) -> None:
    fast_delays(settings)


def from_ip(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def fail(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        client.post("/login/", {"username": username, "password": "wrong guess"})


def test_it_locks_the_name_out_at_one_ip_after_the_limit() -> None:
    alice, attacker = make_user(), from_ip("203.0.113.7")

    fail(attacker, alice.username, 2)
    assert sign_in(from_ip("203.0.113.7"), make_user()).status_code == 302  # other names: fine
    fail(attacker, alice.username, 1)
    response = sign_in(attacker, alice)  # even the right password

    assert response.status_code == 429
    assert b"Too many failed sign-ins for this user name from your address" in response.content
    assert b"paused for 900 seconds" not in response.content
    assert b"15 minutes" in response.content


def test_the_same_name_from_another_ip_still_signs_in() -> None:
    alice = make_user()
    fail(from_ip("203.0.113.7"), alice.username, 5)

    response = sign_in(from_ip("198.51.100.20"), alice)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_lockout_ends_after_the_cool_off(settings: Settings) -> None:
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    alice, browser = make_user(), from_ip("203.0.113.8")
    fail(browser, alice.username, 3)
    assert sign_in(browser, alice).status_code == 429

    time.sleep(1.1)

    assert sign_in(browser, alice).status_code == 302


def test_the_admin_login_is_locked_out_too() -> None:
    root, browser = make_user("root", is_staff=True), from_ip("203.0.113.9")
    for _ in range(3):
        browser.post("/admin/login/", {"username": root.username, "password": "wrong"})

    response = browser.post(
        "/admin/login/?next=/admin/", {"username": root.username, "password": PASSWORD}
    )

    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content


def test_the_client_ip_behind_a_trusted_proxy_is_the_forwarded_one(settings: Settings) -> None:
    settings.TRUSTED_PROXY_IPS = ["10.0.0.1"]
    alice = make_user()
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50")
    fail(attacker, alice.username, 3)

    person = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.60")

    assert sign_in(person, alice).status_code == 302


def test_many_ips_failing_slow_the_name_down_with_a_wait_message() -> None:
    alice = make_user()
    for number in range(6):  # two tries each from three addresses: no lockout, six failures
        fail(from_ip(f"203.0.113.{number // 2 + 10}"), alice.username, 1)

    response = sign_in(from_ip("198.51.100.30"), alice)

    assert response.status_code == 200
    assert b"Too many failed sign-ins for this user name. Wait 1 second" in response.content
    assert "_auth_user_id" not in response.client.session


def test_a_slowed_name_signs_in_once_the_window_has_passed() -> None:
    alice = make_user()
    for number in range(6):
        fail(from_ip(f"203.0.113.{number + 20}"), alice.username, 1)
    time.sleep(1.1)

    assert sign_in(from_ip("198.51.100.31"), alice).status_code == 302


@pytest.mark.both_databases
def test_the_slowdown_window_doubles_and_is_capped() -> None:
    name, waits = f"carol-{time.time_ns()}", []
    for number in range(9):
        request = RequestFactory(REMOTE_ADDR=f"203.0.113.{number + 30}").get("/login/")
        auth_throttle.record_failure(request, name)
        waits.append(auth_throttle.seconds_to_wait(request, name))

    assert waits == [0, 0, 0, 0, 0, 1, 2, 4, 4]


def test_refusals_while_slowed_count_neither_here_nor_for_the_lockout() -> None:
    alice, person = make_user(), from_ip("198.51.100.32")
    for number in range(6):
        fail(from_ip(f"203.0.113.{number + 40}"), alice.username, 1)

    fail(person, alice.username, 5)  # all refused at once: "wait"
    time.sleep(1.1)

    assert sign_in(person, alice).status_code == 302


def test_a_known_device_is_never_slowed() -> None:
    alice, her_laptop = make_user(), from_ip("198.51.100.33")
    sign_in(her_laptop, alice)
    her_laptop.post("/logout/")
    for number in range(8):
        fail(from_ip(f"203.0.113.{number + 50}"), alice.username, 1)

    assert sign_in(from_ip("198.51.100.34"), alice).status_code == 200  # a stranger waits
    assert sign_in(her_laptop, alice).status_code == 302


def test_a_known_device_for_one_name_is_not_known_for_another() -> None:
    alice, bob, laptop = make_user("alice"), make_user("bob"), from_ip("198.51.100.35")
    sign_in(laptop, alice)
    laptop.post("/logout/")
    for number in range(8):
        fail(from_ip(f"203.0.113.{number + 60}"), bob.username, 1)

    response = sign_in(laptop, bob)

    assert response.status_code == 200
    assert b"Wait" in response.content
