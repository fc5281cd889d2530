"""Every endpoint, tried by two people: sign-in needed, another person's ids answer 404, CSRF on.

The endpoints come from the URL resolver (the admin excepted, which has its own tests): each
must have an entry in ROUTES (endpoint_routes_support.py) saying how to call it, so a new view
without one fails this suite. An entry names the methods the view answers and builds, for an
owner, the URL ids and POST bodies that point at the owner's things (account, identity,
folder, message, thread, attachment, frame token). Then, with alice as the owner:

- nobody signed in is sent to the sign-in page (pages listed as PUBLIC excepted; the message
  frame's TOKEN pages refuse a bad token instead, as their requests come without the session);
- bob, signed in, asking for alice's things gets 404 for every method, and nothing in the
  database changes; alice's same request is not refused (so a 404 for everybody cannot pass);
- bob's own lists and searches show nothing of alice's;
- every POST without a CSRF token is refused.
"""

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tests.views.endpoint_people_support import Person, make_person, signed_in
from tests.views.endpoint_routes_support import (
    ROUTES,
    Access,
    Route,
    names,
    resolved_routes,
    token_for,
    token_ids,
    url_for,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture(autouse=True)
def _mail_storage(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path


@pytest.fixture
def alice() -> Person:
    return make_person("alice", "Zanzibar")


@pytest.fixture
def bob() -> Person:
    return make_person("bob", "Quixotic")


def call(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.get(url) if method == "GET" else client.post(url, body or {})


def is_sign_in_redirect(response: Any) -> bool:
    login = reverse("accounts:login")
    return response.status_code == 302 and response["Location"].split("?")[0] == login


# Every row the app keeps, to prove a refused request changed nothing.
KEPT_APPS = ("accounts", "mailbox", "otp_totp")


def everything() -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in KEPT_APPS
        for model in apps.get_app_config(label).get_models()
    }


# --- The tests ----------------------------------------------------------------------------


def test_every_endpoint_has_an_entry() -> None:
    found = set(resolved_routes())

    assert found - set(ROUTES) == set(), (
        "add them to ROUTES in tests/views/endpoint_routes_support.py"
    )
    assert set(ROUTES) - found == set(), "these ROUTES entries are gone from the URLs"


@pytest.mark.parametrize("name", names(Access.SIGNED_IN))
def test_nobody_signed_in_is_sent_to_sign_in(name: str, alice: Person, client: Client) -> None:
    url = url_for(name, alice)

    for method in ("GET", "POST"):
        response = call(client, method, url)
        declared = method in ROUTES[name].methods
        assert is_sign_in_redirect(response) or (not declared and response.status_code == 405), (
            f"{method} {name} answers {response.status_code} to nobody signed in"
        )


@pytest.mark.parametrize("name", names(Access.PUBLIC))
def test_public_pages_answer_without_sign_in(name: str, alice: Person, client: Client) -> None:
    response = client.get(url_for(name, alice))

    assert response.status_code < 500


@pytest.mark.parametrize("name", names(Access.TOKEN))
def test_a_frame_token_opens_only_its_own_persons_message(
    name: str, alice: Person, bob: Person
) -> None:
    token = token_for(alice, alice)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    bobs_own = token_for(bob, bob)
    # Signed for bob but naming alice's message: what a leaked signing key could make.
    alices_message_for_bob = token_for(alice, bob)
    anybody, bob_browser = Client(), signed_in(bob)

    for bad in (forged, "x", bobs_own.rsplit(":", 1)[0], alices_message_for_bob):
        url = reverse(name, kwargs=token_ids(name, bad, alice))
        for client in (anybody, bob_browser):
            assert client.get(url).status_code in (403, 404), f"{name} takes token {bad!r}"
    # The owner's token works, without the session (the frame's origin is opaque).
    assert anybody.get(reverse(name, kwargs=token_ids(name, token, alice))).status_code == 200


def reaches_owners_things(route: Route) -> bool:
    return route.access == Access.SIGNED_IN and (
        route.ids is not None or route.owner_query is not None or route.names_owners_things_in_body
    )


@pytest.mark.parametrize("name", names(where=reaches_owners_things))
def test_another_persons_things_answer_404(name: str, alice: Person, bob: Person) -> None:
    route, bob_browser = ROUTES[name], signed_in(bob)
    url = url_for(name, alice)
    before = everything()

    for method in ("GET", "POST"):
        bodies = route.bodies(alice, bob) if method == "POST" else [{}]
        for body in bodies:
            status = call(bob_browser, method, url, body).status_code
            declared = method in route.methods
            assert status == 404 or (not declared and status == 405), (
                f"{method} {name} {body} by another person answers {status}"
            )
    assert everything() == before


@pytest.mark.parametrize("name", names(where=reaches_owners_things))
def test_the_owners_same_request_is_not_refused(name: str, alice: Person, bob: Person) -> None:
    route = ROUTES[name]
    url = url_for(name, alice)

    for method in route.methods:
        for body in route.bodies(alice, alice) if method == "POST" else [{}]:
            response = call(signed_in(alice), method, url, body)
            assert response.status_code in (200, 204, 302), f"{method} {name} {body}"


@pytest.mark.parametrize(
    "name", names(Access.SIGNED_IN, lambda route: "GET" in route.methods and not route.ids)
)
def test_a_persons_own_pages_show_nothing_of_anothers(
    name: str, alice: Person, bob: Person
) -> None:
    route = ROUTES[name]
    url = reverse(name)

    def page(person: Person) -> str:
        query = route.query(person) if route.query else {}
        return signed_in(person).get(url, query, follow=True).content.decode()

    alices = (alice.marker, alice.account.email)
    for leak in alices:
        assert leak not in page(bob), f"{name} shows bob alice's {leak}"
    if route.shows_owners_things:
        assert any(hers in page(alice) for hers in alices), f"{name} shows alice nothing of hers"


@pytest.mark.parametrize("name", names())
def test_every_post_needs_the_csrf_token(name: str, alice: Person) -> None:
    route, browser = ROUTES[name], signed_in(alice, enforce_csrf_checks=True)
    if route.access == Access.TOKEN:  # refused before the token is even read
        url = reverse(name, kwargs=token_ids(name, "any-token", alice))
    else:
        url = url_for(name, alice)
    bodies = route.bodies(alice, alice) if "POST" in route.methods else [{}]
    before = everything()

    for body in bodies:
        response = browser.post(url, body)
        assert response.status_code == 403 and b"CSRF" in response.content, name
    assert everything() == before
