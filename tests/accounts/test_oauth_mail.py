"""An OAuth account signs in to the real Dovecot and Postfix with its token, which the local
provider issued and Dovecot checks by introspection (mailbox/services/connections.py)."""

import secrets
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import MailAccount, OAuthGrant, User
from accounts.services import connection
from mailbox.models import MessageLocation, OutgoingMessage, OutgoingState, PendingAction
from mailbox.models.actions import ActionState
from mailbox.protocols.mime_build import OutgoingDraft, build_message, new_message_id
from mailbox.services import outbox
from mailbox.services.actions import Flag, do_set_flag, replay_account
from mailbox.services.connections import imap_session, smtp_session
from mailbox.services.sync.account import sync_account
from tests.accounts.factories import make_account
from tests.accounts.oauth_support import sign_in
from tests.harness import messages
from tests.harness.certs import TestCA
from tests.harness.mailservers import MailServers
from tests.harness.oauth_authorization import AuthorizationServer
from tests.harness.oauth_server import OAuthServer
from tests.protocols.support import IMAP, SMTP, STARTTLS, TLS, server_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(
    client: Client,
    provider: AuthorizationServer,
    oauth_mail_servers: Callable[..., MailServers],
    test_ca: TestCA,
) -> tuple[MailAccount, MailServers]:
    """A Gmail-like account on the fixture servers whose password is wrong: only tokens work."""
    servers = oauth_mail_servers()
    user = servers.add_user(
        f"oauth-{secrets.token_hex(4)}@{servers.endpoints.domains[0]}", "real-password"
    )
    alice = User.objects.create_user("alice")
    client.force_login(alice)
    account = make_account(
        alice,
        user.address,
        password="not-the-password",
        incoming=server_for(servers, IMAP, TLS),
        smtp=server_for(servers, SMTP, STARTTLS),
    )
    MailAccount.objects.filter(pk=account.pk).update(provider="gmail")
    assert sign_in(client, test_ca, account=str(account.pk)).status_code == 302
    provider.token_requests.clear()
    return MailAccount.objects.get(pk=account.pk), servers


def test_it_signs_in_to_imap_and_smtp_with_the_token(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, servers = account

    with imap_session(mail_account) as client:
        assert client.capabilities()
    with smtp_session(mail_account):
        pass

    assert f"user=<{mail_account.incoming_username}>, method=OAUTHBEARER" in (
        servers.dovecot.log.read_text()
    )
    assert provider.token_requests == []


def test_a_token_the_server_refuses_is_refreshed_once_and_tried_again(
    account: tuple[MailAccount, MailServers],
    provider: AuthorizationServer,
    oauth_server: OAuthServer,
) -> None:
    mail_account, _ = account
    oauth_server.revoke(OAuthGrant.objects.get(account=mail_account).access_token())

    with imap_session(mail_account) as client:  # refused, refreshed, signed in
        assert client.capabilities()

    assert [form["grant_type"] for form in provider.token_requests] == ["refresh_token"]
    fresh = OAuthGrant.objects.get(account=mail_account)  # kept for the next session
    assert fresh.generation == 1 and oauth_server.introspect(fresh.access_token())["active"]


def test_its_mail_syncs_with_the_token(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, servers = account
    servers.seed(mail_account.email, [messages.plain_text(), messages.html_only()])

    report = sync_account(mail_account.pk)

    assert report.error == "" and report.new == 2


def test_a_revoked_grant_stops_the_sync_with_words_for_the_person(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, _ = account
    provider.revoke_refresh_tokens_of(mail_account.email)
    OAuthGrant.objects.filter(account=mail_account).update(access_token_expires_at=None)

    first, second = sync_account(mail_account.pk), sync_account(mail_account.pk)

    assert "Sign in with Google again" in (first.error or "")
    assert second.error == first.error
    assert len(provider.token_requests) == 1  # the second sync asked nobody
    assert MailAccount.objects.get(pk=mail_account.pk).last_error == first.error


def test_test_connection_signs_in_with_the_token(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, _ = account

    report = connection.test_saved_account(mail_account.user, mail_account)

    assert report.ok, report.problems


def test_test_connection_explains_a_revoked_grant(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, _ = account
    provider.revoke_refresh_tokens_of(mail_account.email)
    OAuthGrant.objects.filter(account=mail_account).update(access_token_expires_at=None)

    report = connection.test_saved_account(mail_account.user, mail_account)

    assert not report.ok
    assert "Sign in with Google again" in report.problems[0].message


def queue_to(account: MailAccount, to: str) -> OutgoingMessage:
    draft = OutgoingDraft(
        from_=("Alice", account.email),
        to=(("Bob", to),),
        subject="Signed in with a token",
        text="Hello.\n",
        message_id=new_message_id("example.test"),
        date=timezone.now(),
    )
    return outbox.do_queue_message(account, build_message(draft, allow_private_hosts=True))


def test_its_outbox_sends_with_the_token(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, servers = account
    bob = servers.add_user(f"bob-{secrets.token_hex(4)}@{servers.endpoints.domains[0]}", "pw")
    message = queue_to(mail_account, bob.address)

    assert outbox.claim_due("worker-1") == [message.pk]
    assert outbox.send_claimed(message.pk, "worker-1").state == OutgoingState.SENT
    servers.wait_for_messages(bob.address, 1)


def test_a_revoked_grant_keeps_the_message_waiting_with_words_for_the_person(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, _ = account
    provider.revoke_refresh_tokens_of(mail_account.email)
    OAuthGrant.objects.filter(account=mail_account).update(access_token_expires_at=None)
    message = queue_to(mail_account, "bob@example.test")

    assert outbox.claim_due("worker-1") == [message.pk]
    outcome = outbox.send_claimed(message.pk, "worker-1")

    row = OutgoingMessage.objects.get(pk=message.pk)
    assert outcome.state == row.state == OutgoingState.QUEUED
    assert "Sign in with Google again" in row.last_error
    assert len(provider.token_requests) == 1


def test_its_settings_are_saved_after_a_test_with_the_token(
    account: tuple[MailAccount, MailServers], client: Client
) -> None:
    mail_account, _ = account
    form = {
        field: getattr(mail_account, field)
        for field in (
            "email",
            "incoming_protocol",
            "incoming_host",
            "incoming_port",
            "incoming_security",
            "incoming_username",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "provider",
        )
    }
    form.update(display_name="Alice Token", action="save")

    response = client.post(reverse("accounts:mail_account_edit", args=[mail_account.pk]), form)

    assert response.status_code == 302, response.content.decode()[-2000:]
    assert MailAccount.objects.get(pk=mail_account.pk).display_name == "Alice Token"


def test_a_token_refused_even_renewed_keeps_the_message_waiting(
    account: tuple[MailAccount, MailServers],
    provider: AuthorizationServer,
    oauth_server: OAuthServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server refuses every token (its provider is having a moment): not a wrong setting,
    so the message waits for another try instead of failing at once."""
    mail_account, _ = account
    monkeypatch.setattr(oauth_server, "introspect", lambda token: {"active": False})
    message = queue_to(mail_account, "bob@example.test")

    assert outbox.claim_due("worker-1") == [message.pk]
    outcome = outbox.send_claimed(message.pk, "worker-1")

    row = OutgoingMessage.objects.get(pk=message.pk)
    assert outcome.state == row.state == OutgoingState.QUEUED
    assert "did not accept" in row.last_error and "even renewed just now" in row.last_error
    assert [form["grant_type"] for form in provider.token_requests] == ["refresh_token"]


def test_a_revoked_grant_leaves_a_change_made_here_waiting_with_words(
    account: tuple[MailAccount, MailServers], provider: AuthorizationServer
) -> None:
    mail_account, servers = account
    servers.seed(mail_account.email, [messages.plain_text()])
    assert sync_account(mail_account.pk).error == ""
    provider.revoke_refresh_tokens_of(mail_account.email)
    OAuthGrant.objects.filter(account=mail_account).update(access_token_expires_at=None)
    do_set_flag(MessageLocation.objects.filter(folder__account=mail_account), Flag.FLAGGED, True)

    replay_account(mail_account.pk, owner="test")  # raises nothing

    action = PendingAction.objects.get(account=mail_account)
    assert action.state == ActionState.PENDING
    assert "Sign in with Google again" in action.error
    assert action.next_attempt_at is not None and action.next_attempt_at > timezone.now()
