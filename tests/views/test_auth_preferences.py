"""/preferences/: each person's time zone, and the middleware that makes it the current one."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.middleware import UserTimeZoneMiddleware
from accounts.models import User
from tests.views.auth_support import make_user

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_current_zone_with_a_label() -> None:
    alice = make_user(time_zone="Europe/Paris")

    response = signed_in(alice).get("/preferences/")

    assert b'<label for="id_time_zone">Time zone' in response.content
    assert b'<option value="Europe/Paris" selected>' in response.content


@pytest.mark.both_databases
def test_it_saves_only_ones_own_zone() -> None:
    alice, bob = make_user("alice"), make_user("bob", time_zone="Asia/Tokyo")

    response = signed_in(alice).post("/preferences/", {"time_zone": "America/New_York"})

    assert response["Location"] == "/preferences/"
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.time_zone == "America/New_York"
    assert bob.time_zone == "Asia/Tokyo"


def test_it_refuses_a_zone_that_does_not_exist() -> None:
    alice = make_user()

    response = signed_in(alice).post("/preferences/", {"time_zone": "Mars/Olympus_Mons"})

    assert response.status_code == 200
    assert response.context["form"].has_error("time_zone")
    alice.refresh_from_db()
    assert alice.time_zone == "UTC"


def zone_during_request(rf: RequestFactory, user: User | AnonymousUser) -> str:
    seen = []
    request = rf.get("/")
    request.user = user
    UserTimeZoneMiddleware(lambda _: seen.append(timezone.get_current_timezone_name()))(request)
    return seen[0]


def test_each_request_runs_in_the_persons_zone(rf: RequestFactory) -> None:
    tokyo, paris = make_user(time_zone="Asia/Tokyo"), make_user(time_zone="Europe/Paris")

    assert zone_during_request(rf, tokyo) == "Asia/Tokyo"
    assert zone_during_request(rf, paris) == "Europe/Paris"
    assert timezone.get_current_timezone_name() == "UTC"  # and put back afterwards


@pytest.mark.both_databases
def test_strangers_get_the_site_zone(rf: RequestFactory) -> None:
    assert zone_during_request(rf, AnonymousUser()) == "UTC"
