"""Mail account pages against the real fixture servers, found by name through the local DNS."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import MailAccount, User
from tests.harness.dns import LocalDnsServer
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST

pytestmark = pytest.mark.django_db
STANDARD_HOST = STANDARD_HOST


@pytest.fixture
def alice(client: Client) -> User:
    user = User.objects.create_user("alice")
    client.force_login(user)
    return user


@pytest.fixture
def named_servers(
    mail_servers: MailServers, dns_server: LocalDnsServer, settings: Any
) -> MailServers:
    """imap.example.test and smtp.example.test lead to the fixture's standard ports."""
    for name in ("imap.example.test", "smtp.example.test"):
        dns_server.set(name, "A", STANDARD_HOST)
    settings.MAIL_DNS_SERVER = dns_server.address
    return mail_servers


def form_data(user: MailUser, **changes: str) -> dict[str, str]:
    data = {
        "email": user.address,
        "password": user.password,
        "display_name": "Alice",
        "incoming_protocol": "imap",
        "incoming_host": "imap.example.test",
        "incoming_port": "993",
        "incoming_security": "tls",
        "incoming_username": user.login,
        "smtp_host": "smtp.example.test",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_username": user.login,
        "action": "save",
    }
    data.update(changes)
    return data


def test_find_settings_fills_in_the_servers_by_guessing(
    client: Client, alice: User, named_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()

    page = client.post(
        "/settings/accounts/add/",
        {"email": user.address, "password": user.password, "action": "discover"},
    )

    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["incoming_host"] == "imap.example.test"
    assert form.initial["incoming_security"] == "tls"
    assert form.initial["smtp_host"] == "smtp.example.test"
    assert user.password.encode() not in page.content  # the password is never sent back


def test_saving_signs_in_for_real_then_stores_the_account(
    client: Client, alice: User, named_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()

    response = client.post("/settings/accounts/add/", form_data(user))

    assert response.status_code == 302
    account = MailAccount.objects.get(user=alice)
    assert account.email == user.address
    assert account.incoming_credentials().password == user.password
    assert account.identities.get().email == user.address


def test_a_wrong_password_is_explained_and_nothing_is_saved(
    client: Client, alice: User, named_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()

    page = client.post("/settings/accounts/add/", form_data(user, password="Canary-wrong-1"))

    assert page.status_code == 200
    problems = [problem.message for problem in page.context["report"].problems]
    assert len(problems) == 2  # both servers refused it
    assert all("did not accept the user name or password" in text for text in problems)
    assert b"Canary-wrong-1" not in page.content
    assert not MailAccount.objects.exists()


def test_an_untrusted_certificate_can_be_trusted_exactly(
    client: Client, alice: User, foreign_servers: MailServers
) -> None:
    user = foreign_servers.add_user("self-hoster@example.test", "pw-self-hosted")
    e = foreign_servers.endpoints
    data = form_data(
        user,
        incoming_host=e.host,
        incoming_port=str(e.imaps_port),
        smtp_host=e.host,
        smtp_port=str(e.submissions_port),
        smtp_security="tls",
    )

    refused = client.post("/settings/accounts/add/", data)

    problems = {problem.side: problem for problem in refused.context["report"].problems}
    assert set(problems) == {"incoming", "smtp"}
    assert all("not trusted" in problem.message for problem in problems.values())
    fingerprint = problems["incoming"].fingerprint
    assert fingerprint and fingerprint.encode() in refused.content
    trusted = client.post(
        "/settings/accounts/add/",
        {
            **data,
            "incoming_trusted_fingerprint": fingerprint,
            "smtp_trusted_fingerprint": problems["smtp"].fingerprint,
        },
    )
    assert trusted.status_code == 302
    account = MailAccount.objects.get(user=alice)
    assert account.incoming_trusted_fingerprint == fingerprint


def test_editing_keeps_the_saved_password_when_left_empty(
    client: Client, alice: User, named_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()
    client.post("/settings/accounts/add/", form_data(user))
    account = MailAccount.objects.get(user=alice)

    response = client.post(
        f"/settings/accounts/{account.pk}/", form_data(user, password="", display_name="A. L.")
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.display_name == "A. L."
    assert account.incoming_credentials().password == user.password


def test_connection_tests_are_limited_per_person(
    client: Client,
    alice: User,
    named_servers: MailServers,
    mail_user: Callable[..., MailUser],
    settings: Any,
) -> None:
    settings.MAIL_CONNECTION_TESTS_PER_HOUR = 1
    user = mail_user()
    client.post("/settings/accounts/add/", form_data(user, password="wrong"))

    page = client.post("/settings/accounts/add/", form_data(user))

    assert "Too many" in page.context["report"].problems[0].message
    assert not MailAccount.objects.exists()


def test_removing_an_account(
    client: Client, alice: User, named_servers: MailServers, mail_user: Callable[..., MailUser]
) -> None:
    user = mail_user()
    client.post("/settings/accounts/add/", form_data(user))
    account = MailAccount.objects.get(user=alice)

    confirm = client.get(f"/settings/accounts/{account.pk}/delete/")
    removed = client.post(f"/settings/accounts/{account.pk}/delete/")

    assert b"Remove" in confirm.content
    assert removed.status_code == 302
    assert not MailAccount.objects.filter(pk=account.pk).exists()
