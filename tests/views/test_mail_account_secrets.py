"""A canary password pushed through every failure path of the account pages never shows up:
not in the page, not in a DEBUG traceback, not in the logs, not in the admin."""

import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from accounts.models import MailAccount, User
from tests.harness.mailservers import MailServers, MailUser
from tests.views.test_mail_accounts import form_data

pytestmark = pytest.mark.django_db
CANARY = "Canary-7f3a-Secret"


@pytest.fixture
def alice(client: Client) -> User:
    user = User.objects.create_user("alice")
    client.force_login(user)
    return user


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0), backlog=1) as listener:
        yield listener.getsockname()[1]


def assert_no_canary(response: Any, caplog: pytest.LogCaptureFixture, canary: str = CANARY) -> None:
    assert canary.encode() not in response.content
    assert all(canary not in record.getMessage() for record in caplog.records)
    assert all(canary not in (record.exc_text or "") for record in caplog.records)


@pytest.mark.parametrize(
    "servers_of",
    [
        pytest.param(lambda e, silent: {}, id="wrong-password"),
        pytest.param(
            lambda e, silent: {"incoming_host": "nowhere.invalid", "smtp_host": "nowhere.invalid"},
            id="name-not-found",
        ),
        pytest.param(
            lambda e, silent: {
                "incoming_host": "127.0.0.1",
                "incoming_port": str(silent),
                "smtp_host": "127.0.0.1",
                "smtp_port": str(silent),
            },
            id="time-out",
        ),
    ],
)
def test_failed_connection_tests_never_show_the_password(
    client: Client,
    alice: User,
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    silent_port: int,
    servers_of: Callable[..., dict[str, str]],
    caplog: pytest.LogCaptureFixture,
    settings: Any,
) -> None:
    settings.MAIL_NETWORK_TIMEOUT_SECONDS = 0.5
    caplog.set_level(logging.DEBUG)
    e = mail_servers.endpoints
    base = {"incoming_host": e.host, "incoming_port": str(e.imaps_port)}
    base |= {"smtp_host": e.host, "smtp_port": str(e.submission_port)}
    data = form_data(mail_user(), password=CANARY, **{**base, **servers_of(e, silent_port)})

    response = client.post("/settings/accounts/add/", data)

    assert response.status_code == 200 and not response.context["report"].ok
    assert_no_canary(response, caplog)


def test_an_untrusted_certificate_never_shows_the_password(
    client: Client,
    alice: User,
    foreign_servers: MailServers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Its own canary: the session's foreign servers keep this user (and its password) around.
    canary = "Canary-untrusted-9c1e"
    user = foreign_servers.add_user("canary@example.test", canary)
    e = foreign_servers.endpoints
    data = form_data(user, incoming_host=e.host, incoming_port=str(e.imaps_port))
    data |= {"smtp_host": e.host, "smtp_port": str(e.submissions_port), "smtp_security": "tls"}

    response = client.post("/settings/accounts/add/", data)

    assert "not trusted" in response.context["report"].problems[0].message
    assert_no_canary(response, caplog, canary)


def test_a_debug_traceback_never_shows_the_password(
    alice: User,
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug deep in the connection test, with DEBUG on: Django's technical 500 page."""
    settings.DEBUG = True

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("an unexpected bug")

    # The one fake here: no real server makes our own code crash.
    monkeypatch.setattr("mailbox.protocols.check.check_incoming", crash)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    e = mail_servers.endpoints
    data = form_data(mail_user(), password=CANARY, incoming_host=e.host)
    data |= {"incoming_port": str(e.imaps_port), "smtp_host": e.host}
    data |= {"smtp_port": str(e.submission_port), "smtp_password": CANARY}

    response = client.post("/settings/accounts/add/", data)

    assert response.status_code == 500
    assert b"an unexpected bug" in response.content  # it is the technical page
    assert_no_canary(response, caplog)


def test_private_addresses_are_refused_unless_allowed(
    client: Client,
    alice: User,
    mail_servers: MailServers,
    mail_user: Callable[..., MailUser],
    settings: Any,
) -> None:
    settings.MAIL_ALLOW_PRIVATE_HOSTS = False
    e = mail_servers.endpoints
    data = form_data(mail_user(), incoming_host="127.0.0.1", incoming_port=str(e.imaps_port))
    data |= {"smtp_host": "localhost", "smtp_port": str(e.submission_port)}
    data |= {"email": "someone@example.com"}  # .test addresses are refused in this mode too

    response = client.post("/settings/accounts/add/", data)

    problems = response.context["report"].problems
    assert len(problems) == 2
    assert all("private or local network address" in problem.message for problem in problems)
    assert not MailAccount.objects.exists()
