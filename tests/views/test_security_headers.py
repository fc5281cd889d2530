"""The headers every page is sent with, and pages that keep to them.

The app's pages carry its Content-Security-Policy (no inline script or style, nothing from
elsewhere, never framed), `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`
and `X-Frame-Options: DENY`. A response with a policy of its own (the message frame, an
attachment) keeps it. Every page of the app and of the admin is read for inline code the
policy would block: a page that needs it would break in the browser without a sound.
"""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.fixtures import Settings

from accounts.models import User
from tests.views.endpoint_people_support import Person, make_person, signed_in
from tests.views.endpoint_routes_support import ROUTES, Access, token_for, token_ids, url_for
from webmail.middleware import ContentSecurityPolicyMiddleware

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

CSP = "Content-Security-Policy"
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}  # data, never run


@pytest.fixture(autouse=True)
def _pages_to_see(settings: Settings, tmp_path: Path) -> None:
    settings.MAIL_STORAGE_DIR = tmp_path
    settings.ACCOUNTS_OPEN_SIGNUP = True  # else the sign-up page is a 404


@pytest.fixture
def alice() -> Person:
    return make_person("alice", "Zanzibar")


class InlineCode(HTMLParser):
    """Collects what a `script-src 'self'; style-src 'self'` policy would refuse to run."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "style":
            self.found.append("<style>")
        script_type = (values.get("type") or "").lower()
        if tag == "script" and "src" not in values and script_type not in DATA_SCRIPT_TYPES:
            self.found.append("<script> without src")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def assert_app_headers(response: HttpResponse, where: str) -> None:
    assert response[CSP] == settings.CONTENT_SECURITY_POLICY, where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Frame-Options"] == "DENY", where


def is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def test_the_policy_is_the_one_the_issue_asks_for() -> None:
    directives = dict(
        directive.strip().split(" ", 1) for directive in settings.CONTENT_SECURITY_POLICY.split(";")
    )

    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "frame-src": "'self'",
        "form-action": "'self'",
        "base-uri": "'none'",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
    }


def test_pages_for_nobody_signed_in_carry_the_headers(client: Client) -> None:
    for url in (
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("accounts:password_reset"),
        "/admin/login/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_app_headers(response, url)
        assert inline_code(response.content.decode()) == [], url
    # A redirect and a 404 are the app's responses too.
    assert_app_headers(client.get("/"), "/")
    assert_app_headers(client.get("/no-such-page/"), "404")


APP_PAGES = sorted(
    name
    for name, route in ROUTES.items()
    if "GET" in route.methods and route.access != Access.TOKEN
)


# Pages that answer a bare GET with a refusal page of their own (still the app's headers).
REFUSING = {"accounts:oauth_callback": 400}  # no state, no code: refused in words


@pytest.mark.parametrize("name", APP_PAGES)
def test_every_page_carries_the_headers_and_no_inline_code(name: str, alice: Person) -> None:
    response = signed_in(alice).get(url_for(name, alice), follow=True)

    assert response.status_code == REFUSING.get(name, 200), name
    if name == "mail:attachment":
        return  # keeps a policy of its own (test_an_attachment_keeps_its_own_policy)
    assert_app_headers(response, name)
    if is_html(response):
        assert inline_code(response.content.decode()) == [], name


def test_an_attachment_keeps_its_own_policy(alice: Person) -> None:
    response = signed_in(alice).get(url_for("mail:attachment", alice))

    assert response[CSP] != settings.CONTENT_SECURITY_POLICY
    assert "sandbox" in response[CSP]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")


def test_the_message_frame_keeps_its_own_policy_and_sends_no_referrer(alice: Person) -> None:
    token = token_for(alice, alice)

    for name in ("mail:frame", "mail:inline_part"):
        response = Client().get(reverse(name, kwargs=token_ids(name, token, alice)))
        assert response.status_code == 200, name
        assert response[CSP] != settings.CONTENT_SECURITY_POLICY, name
        assert response["X-Content-Type-Options"] == "nosniff", name
    frame = Client().get(reverse("mail:frame", kwargs={"token": token}))
    policy = frame[CSP]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert frame["Referrer-Policy"] == "no-referrer"
    # Framed by the app's own message page only.
    assert frame.get("X-Frame-Options", "SAMEORIGIN") == "SAMEORIGIN"


def test_the_admin_runs_under_the_same_policy(alice: Person) -> None:
    root = User.objects.create_superuser("root", "root@example.test", "pw-for-tests")
    browser = Client()
    browser.force_login(root)
    urls = ["/admin/", "/admin/password_change/"]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            )

    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert_app_headers(response, url)
        assert inline_code(response.content.decode()) == [], url


# --- The middleware on its own ------------------------------------------------------------


def through_middleware(response: HttpResponse) -> HttpResponse:
    def view(request: HttpRequest) -> HttpResponse:
        return response

    return ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/"))


def test_a_response_without_a_policy_gets_the_apps() -> None:
    assert through_middleware(HttpResponse())[CSP] == settings.CONTENT_SECURITY_POLICY


def test_a_response_with_its_own_policy_keeps_it() -> None:
    own = HttpResponse(headers={CSP: "default-src 'none'; sandbox"})

    assert through_middleware(own)[CSP] == "default-src 'none'; sandbox"


def test_debug_error_pages_go_without_a_policy(settings: Settings) -> None:
    settings.DEBUG = True

    assert CSP not in through_middleware(HttpResponse(status=500))
    assert CSP not in through_middleware(HttpResponse(status=404))
    assert through_middleware(HttpResponse())[CSP] == settings.CONTENT_SECURITY_POLICY
