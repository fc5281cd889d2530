"""Changing a password, and resetting a forgotten one by mail (locmem, then real Postfix)."""

import email
import email.policy
import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from tests.harness.mailservers import MailServers, MailUser
from tests.views.auth_support import PASSWORD, make_user, production_settings, production_values

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new passphrase 42"
LINK = re.compile(r"(https?://\S+/password/reset/\S+/)")


@pytest.fixture
def mail_is_set_up(settings: Settings) -> None:
    settings.EMAIL_IS_CONFIGURED = True
    settings.SITE_URL = "https://mail.example.test"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Changing -----------------------------------------------------------------------------------


def test_it_changes_the_password_and_keeps_the_session() -> None:
    alice, bob = make_user("alice"), make_user("bob")
    browser = signed_in(alice)

    response = browser.post(
        "/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == "/password/change/done/"
    assert browser.get("/", follow=True).status_code == 200
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert bob.check_password(PASSWORD)  # only one's own password changes


def test_it_refuses_a_wrong_old_password_and_a_weak_new_one() -> None:
    alice = make_user()

    response = signed_in(alice).post(
        "/password/change/",
        {"old_password": "nope", "new_password1": "12345678", "new_password2": "12345678"},
    )

    assert response.status_code == 200
    assert b"Your old password was entered incorrectly" in response.content
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


# Resetting ----------------------------------------------------------------------------------


def request_reset(client: Client, address: str, **extra: str) -> None:
    response = client.post("/password/reset/", {"email": address}, **extra)
    assert response["Location"] == "/password/reset/sent/"


def set_new_password(client: Client, link: str) -> None:
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get(f"/{path}", follow=True)
    assert form_page.context["validlink"] is True
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == "/password/reset/done/"


def test_a_reset_mail_leads_to_a_new_password(
    client: Client, mailoutbox: list, mail_is_set_up: None
) -> None:
    alice, bob = make_user("alice"), make_user("bob")

    request_reset(client, alice.email.upper())

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [alice.email]
    assert message.subject == "Reset your password on mail.example.test"
    link = LINK.search(message.body).group(1)
    assert link.startswith("https://mail.example.test/password/reset/")
    set_new_password(client, link)
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert bob.check_password(PASSWORD)
    assert client.get(f"/{link.split('/', 3)[3]}").context["validlink"] is False  # used once


def test_the_link_comes_from_site_url_never_from_the_host_header(
    client: Client, mailoutbox: list, mail_is_set_up: None, settings: Settings
) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "attacker.example"]
    alice = make_user()

    request_reset(client, alice.email, HTTP_HOST="attacker.example")

    assert "attacker.example" not in mailoutbox[0].body
    assert "https://mail.example.test/password/reset/" in mailoutbox[0].body


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: Client, mailoutbox: list, mail_is_set_up: None
) -> None:
    request_reset(client, "nobody@example.test")

    assert mailoutbox == []


def test_without_mail_set_up_the_page_says_so(
    client: Client, mailoutbox: list, settings: Settings
) -> None:
    settings.EMAIL_IS_CONFIGURED = False
    alice = make_user()

    page = client.get("/password/reset/")
    post = client.post("/password/reset/", {"email": alice.email})

    assert page.status_code == post.status_code == 200
    assert b"has not set up outgoing mail" in page.content
    assert mailoutbox == []


def test_a_reset_signs_nobody_in(client: Client, mailoutbox: list, mail_is_set_up: None) -> None:
    alice = make_user()
    request_reset(client, alice.email)

    set_new_password(client, LINK.search(mailoutbox[0].body).group(1))

    assert "_auth_user_id" not in client.session


def test_email_url_sets_the_smtp_server() -> None:
    names = ("EMAIL_IS_CONFIGURED", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS")
    names += ("EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "DEFAULT_FROM_EMAIL")

    unset = production_values(*names[:2], SITE_URL="https://mail.example.test")
    smtp = production_values(
        *names, EMAIL_URL="smtp+tls://web%40example.com:p%2Fss@smtp.example.com:587"
    )

    assert unset == [False, "django.core.mail.backends.dummy.EmailBackend"]
    assert smtp == [
        True,
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        587,
        True,
        "web@example.com",
        "p/ss",
        "webmail@127.0.0.1",
    ]


def test_a_bad_email_url_stops_the_start_without_showing_the_password() -> None:
    result = production_settings("EMAIL_HOST", EMAIL_URL="smpt://user:canary-secret@host")

    assert result.returncode != 0
    assert "EMAIL_URL is not a mail URL" in result.stderr
    assert "canary-secret" not in result.stderr


def test_a_reset_mail_really_goes_through_the_smtp_server(
    client: Client,
    settings: Settings,
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
) -> None:
    sender, recipient = mail_user(local="webmail"), mail_user(local="alice")
    endpoints = mail_servers.endpoints
    settings.EMAIL_IS_CONFIGURED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = endpoints.host
    settings.EMAIL_PORT = endpoints.submission_port
    settings.EMAIL_USE_TLS = True  # STARTTLS, the server's certificate checked against the CA
    settings.EMAIL_HOST_USER = sender.login
    settings.EMAIL_HOST_PASSWORD = sender.password
    settings.DEFAULT_FROM_EMAIL = sender.address
    settings.SITE_URL = "https://mail.example.test"
    alice = make_user(email=recipient.address)
    mail.outbox = []

    request_reset(client, recipient.address)

    [stored] = mail_servers.wait_for_messages(recipient.address, 1)
    message = email.message_from_bytes(stored.raw, policy=email.policy.default)
    assert message["From"] == sender.address
    body = message.get_body(("plain",)).get_content()
    set_new_password(client, LINK.search(body).group(1))
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
