"""/two-factor/: setting up, confirming and turning off a TOTP device; requiring one."""

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from accounts import two_factor
from tests.views.auth_support import (
    PASSWORD,
    fast_delays,
    make_user,
    next_code,
    turn_on_two_factor,
    wrong_code,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings: Settings) -> None:
    fast_delays(settings)


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_a_secret_and_an_inline_svg_qr_code() -> None:
    alice = make_user()

    response = signed_in(alice).get("/two-factor/")

    device = TOTPDevice.objects.get(user=alice)
    assert device.confirmed is False
    assert two_factor.secret_text(device).encode() in response.content
    assert b"<svg" in response.content
    assert b"<title>QR code for your authenticator app</title>" in response.content
    assert b'<label for="id_code">' in response.content


def test_the_secret_stays_the_same_until_confirmed() -> None:
    browser = signed_in(make_user())

    first, second = browser.get("/two-factor/"), browser.get("/two-factor/")

    assert first.context["secret"] == second.context["secret"]


def test_a_right_code_turns_it_on_and_verifies_this_session() -> None:
    alice = make_user()
    browser = signed_in(alice)
    browser.get("/two-factor/")
    device = TOTPDevice.objects.get(user=alice)

    response = browser.post("/two-factor/enable/", {"code": next_code(device)}, follow=True)

    assert b"Two-factor sign-in is on" in response.content
    assert TOTPDevice.objects.get(user=alice).confirmed is True
    assert browser.session["otp_device_id"] == device.persistent_id


def test_a_wrong_code_leaves_it_off() -> None:
    alice = make_user()
    browser = signed_in(alice)
    browser.get("/two-factor/")
    device = TOTPDevice.objects.get(user=alice)

    response = browser.post("/two-factor/enable/", {"code": wrong_code(device)})

    assert b"That code is not right" in response.content
    assert TOTPDevice.objects.get(user=alice).confirmed is False


def test_each_person_sees_and_confirms_only_their_own_device() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alice_browser, bob_browser = signed_in(alice), signed_in(bob)
    alices_secret = alice_browser.get("/two-factor/").context["secret"]
    alices_device = TOTPDevice.objects.get(user=alice)

    bobs_page = bob_browser.get("/two-factor/")
    bob_browser.post("/two-factor/enable/", {"code": next_code(alices_device)})

    assert bobs_page.context["secret"] != alices_secret
    assert alices_secret.encode() not in bobs_page.content
    assert TOTPDevice.objects.get(user=alice).confirmed is False
    assert TOTPDevice.objects.get(user=bob).confirmed is False


def test_turning_it_off_takes_the_password_and_a_code() -> None:
    alice = make_user()
    device = turn_on_two_factor(alice)
    browser = signed_in(alice)

    no_password = browser.post(
        "/two-factor/disable/", {"password": "wrong", "code": next_code(device)}
    )
    no_code = browser.post("/two-factor/disable/", {"password": PASSWORD, "code": "000000"})
    assert b"That is not your password" in no_password.content
    assert b"That code is not right" in no_code.content or b"six digits" in no_code.content
    assert TOTPDevice.objects.filter(user=alice).exists()

    response = browser.post(
        "/two-factor/disable/", {"password": PASSWORD, "code": next_code(device)}, follow=True
    )

    assert b"Two-factor sign-in is off." in response.content
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert TOTPDevice.objects.get(user=alice).key != device.key  # a fresh secret on offer


def test_one_person_cannot_turn_off_anothers() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    alices_device = turn_on_two_factor(alice)

    bob_browser = signed_in(bob)
    bob_browser.post(
        "/two-factor/disable/", {"password": PASSWORD, "code": next_code(alices_device)}
    )

    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_a_required_person_is_sent_to_set_it_up_first() -> None:
    alice = make_user(two_factor_required=True)
    browser = signed_in(alice)

    response = browser.get("/preferences/")

    assert response["Location"] == "/two-factor/?next=%2Fpreferences%2F"
    page = browser.get(response["Location"])
    assert b"Your account requires two-factor sign-in" in page.content
    device = TOTPDevice.objects.get(user=alice)
    done = browser.post("/two-factor/enable/", {"code": next_code(device), "next": "/preferences/"})
    assert done["Location"] == "/preferences/"
    assert browser.get("/preferences/").status_code == 200


def test_requiring_it_for_everybody_comes_from_the_setting(settings: Settings) -> None:
    settings.ACCOUNTS_REQUIRE_TWO_FACTOR = True
    alice, bob = make_user("alice"), make_user("bob")
    turn_on_two_factor(bob)

    assert signed_in(alice).get("/")["Location"].startswith("/two-factor/")
    assert signed_in(bob).get("/", follow=True).status_code == 200


def test_a_required_person_may_still_sign_out() -> None:
    browser = signed_in(make_user(two_factor_required=True))

    assert browser.post("/logout/")["Location"] == "/login/"


def test_it_cannot_be_turned_off_when_required() -> None:
    alice = make_user(two_factor_required=True)
    device = turn_on_two_factor(alice)

    response = signed_in(alice).post(
        "/two-factor/disable/", {"password": PASSWORD, "code": next_code(device)}
    )

    assert b"cannot be turned off" in response.content
    assert TOTPDevice.objects.filter(user=alice).exists()


# The admin -----------------------------------------------------------------------------------


def test_the_admin_lets_staff_without_a_device_in() -> None:
    root = make_user("root", is_staff=True, is_superuser=True)

    assert signed_in(root).get("/admin/").status_code == 200


def test_the_admin_wants_the_code_from_staff_with_a_device() -> None:
    root = make_user("root", is_staff=True, is_superuser=True)
    turn_on_two_factor(root)

    response = signed_in(root).get("/admin/")  # signed in, but never gave a code

    assert response["Location"].startswith("/admin/login/")


def test_the_admin_login_asks_staff_with_a_device_for_a_code() -> None:
    root = make_user("root", is_staff=True, is_superuser=True)
    device = turn_on_two_factor(root)
    browser = Client()
    form = {"username": root.username, "password": PASSWORD}

    without = browser.post("/admin/login/?next=/admin/", form)
    wrong = browser.post("/admin/login/?next=/admin/", {**form, "otp_token": wrong_code(device)})
    right = browser.post("/admin/login/?next=/admin/", {**form, "otp_token": next_code(device)})

    assert b"Enter the code from your authenticator app" in without.content
    assert b"That code is not right" in wrong.content
    assert right["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


def test_signing_in_with_a_code_on_our_page_opens_the_admin() -> None:
    root = make_user("root", is_staff=True, is_superuser=True)
    device = turn_on_two_factor(root)
    browser = Client()
    browser.post("/login/", {"username": root.username, "password": PASSWORD})
    browser.post("/login/code/", {"code": next_code(device)})

    assert browser.get("/admin/").status_code == 200


@pytest.mark.both_databases
def test_only_confirmed_devices_count() -> None:
    alice = make_user()
    two_factor.setup_device(alice)

    assert two_factor.confirmed_device(alice) is None
    assert two_factor.needs_setup(alice) is False
    alice.two_factor_required = True
    assert two_factor.needs_setup(alice) is True
