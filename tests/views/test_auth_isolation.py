"""The sign-in pages reach only the signed-in person's own data.

Their URLs come from the resolver (accounts/urls_auth.py): a new one fails here until it is
listed as PUBLIC (no personal data) or PERSONAL (with the two-user test that covers it).
Every PERSONAL page is also hit by bob with alice's details in the form, and alice's row and
devices must come out unchanged.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import urls_auth
from accounts.models import User
from tests.views import (
    test_auth_login,
    test_auth_password,
    test_auth_preferences,
    test_auth_two_factor,
)
from tests.views.auth_support import PASSWORD, make_user, next_code, turn_on_two_factor

pytestmark = pytest.mark.django_db

PUBLIC = {
    "login",
    "login_code",
    "signup",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
_own_device_only = test_auth_two_factor.test_each_person_sees_and_confirms_only_their_own_device
_own_password_only = test_auth_password.test_it_changes_the_password_and_keeps_the_session
PERSONAL = {
    "logout": test_auth_login.test_signing_out_one_person_leaves_another_signed_in,
    "password_change": _own_password_only,
    "password_change_done": _own_password_only,
    "two_factor": _own_device_only,
    "two_factor_enable": _own_device_only,
    "two_factor_disable": test_auth_two_factor.test_one_person_cannot_turn_off_anothers,
    "preferences": test_auth_preferences.test_it_saves_only_ones_own_zone,
}


def auth_url_names() -> set[str]:
    return {p.name for p in urls_auth.urlpatterns if isinstance(p, URLPattern) and p.name}


def test_every_sign_in_url_is_known_as_public_or_personal() -> None:
    assert auth_url_names() == PUBLIC | set(PERSONAL)
    assert PUBLIC.isdisjoint(PERSONAL)


def snapshot(user: User) -> tuple:
    user.refresh_from_db()
    devices = sorted(TOTPDevice.objects.filter(user=user).values_list("key", "confirmed"))
    return (user.password, user.email, user.time_zone, user.is_active, devices)


@pytest.mark.parametrize("name", sorted(set(PERSONAL) - {"logout"}))
def test_bob_with_alices_details_changes_nothing_of_alices(name: str) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    device = turn_on_two_factor(alice)
    before = snapshot(alice)
    bob_browser = Client()
    bob_browser.force_login(bob)
    form = {
        "username": alice.username,
        "user": alice.pk,
        "password": PASSWORD,
        "old_password": PASSWORD,
        "new_password1": "taken over 12345",
        "new_password2": "taken over 12345",
        "code": next_code(device),
        "time_zone": "Asia/Tokyo",
        "email": "bob@example.test",
    }

    bob_browser.get(reverse(f"accounts:{name}"))
    bob_browser.post(reverse(f"accounts:{name}"), form)

    assert snapshot(alice) == before
