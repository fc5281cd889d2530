"""Access tokens refreshed at the local provider's token endpoint, one refresh at a time."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import MailAccount, OAuthGrant, User
from accounts.services.oauth_tokens import SignInRequired, access_token_for
from tests.accounts.oauth_support import sign_in
from tests.harness.certs import TestCA
from tests.harness.oauth_authorization import AuthorizationServer
from tests.harness.oauth_server import OAuthServer


@pytest.fixture
def account(client: Client, provider: AuthorizationServer, test_ca: TestCA) -> MailAccount:
    """alice@gmail.com, signed in with the local provider; its requests forgotten."""
    user = User.objects.create_user("alice")
    client.force_login(user)
    assert sign_in(client, test_ca).status_code == 302
    provider.token_requests.clear()
    return MailAccount.objects.get(user=user)


def expire(account: MailAccount, in_seconds: float = -1) -> None:
    OAuthGrant.objects.filter(account=account).update(
        access_token_expires_at=timezone.now() + dt.timedelta(seconds=in_seconds)
    )


def refreshes(provider: AuthorizationServer) -> list[dict[str, str]]:
    return [form for form in provider.token_requests if form["grant_type"] == "refresh_token"]


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_fresh_token_is_used_as_it_is(
    account: MailAccount, provider: AuthorizationServer
) -> None:
    assert access_token_for(account) == account.oauth_grant.access_token()
    assert provider.token_requests == []


@pytest.mark.django_db
@pytest.mark.both_databases
@pytest.mark.parametrize("left", [-1, 60], ids=["expired", "expiring-soon"])
def test_an_expired_or_expiring_token_is_refreshed(
    left: int, account: MailAccount, provider: AuthorizationServer, oauth_server: OAuthServer
) -> None:
    old = account.oauth_grant.access_token()
    expire(account, left)

    token = access_token_for(account)

    assert token != old
    assert oauth_server.introspect(token)["active"] is True
    [refresh] = refreshes(provider)
    assert refresh["refresh_token"] == account.oauth_grant.refresh_token()
    grant = OAuthGrant.objects.get(account=account)
    assert grant.access_token() == token and grant.generation == 1
    assert grant.access_token_expires_at > timezone.now() + dt.timedelta(minutes=30)
    assert grant.refresh_lease_owner == ""  # the lease was given back
    assert access_token_for(account) == token and len(provider.token_requests) == 1


@pytest.mark.django_db
@pytest.mark.both_databases
def test_force_refreshes_a_token_the_mail_server_refused(
    account: MailAccount, provider: AuthorizationServer
) -> None:
    old = account.oauth_grant.access_token()

    assert access_token_for(account, force=True) != old
    assert len(refreshes(provider)) == 1


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_rotated_refresh_token_replaces_the_old_one(
    account: MailAccount, provider: AuthorizationServer
) -> None:
    provider.rotate_refresh_tokens = True
    old = account.oauth_grant.refresh_token()
    expire(account)

    access_token_for(account)

    assert OAuthGrant.objects.get(account=account).refresh_token() not in ("", old)


@pytest.mark.django_db
@pytest.mark.both_databases
def test_a_revoked_grant_asks_the_person_to_sign_in_again_and_is_not_retried(
    account: MailAccount, provider: AuthorizationServer, client: Client, caplog: Any
) -> None:
    caplog.set_level("DEBUG")
    provider.revoke_refresh_tokens_of("alice@gmail.com")
    secrets = (account.oauth_grant.refresh_token(), account.oauth_grant.access_token())
    expire(account)

    with pytest.raises(SignInRequired, match="Sign in with Google again"):
        access_token_for(account)
    for _ in range(3):
        with pytest.raises(SignInRequired):
            access_token_for(account, force=True)

    assert len(provider.token_requests) == 1
    grant = OAuthGrant.objects.get(account=account)
    assert grant.needs_sign_in and grant.access_token_encrypted == ""
    page = client.get(reverse("accounts:mail_accounts")).content.decode()
    assert "no longer accepts this app&#x27;s access to alice@gmail.com" in page
    assert "Sign in again" in page
    assert not any(secret in caplog.text for secret in secrets)


@pytest.mark.django_db(transaction=True)
@pytest.mark.both_databases
def test_two_workers_refreshing_at_once_make_one_token_request(
    account: MailAccount, provider: AuthorizationServer
) -> None:
    expire(account)
    provider.token_delay = 0.5  # both are waiting while the first refresh is on the wire
    tokens: list[str] = []
    errors: list[BaseException] = []
    go = threading.Barrier(2)

    def worker() -> None:
        try:
            go.wait()
            tokens.append(access_token_for(MailAccount.objects.get(pk=account.pk)))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(tokens) == 2 and tokens[0] == tokens[1]
    assert len(refreshes(provider)) == 1
    assert OAuthGrant.objects.get(account=account).generation == 1


@pytest.mark.django_db
@pytest.mark.both_databases
def test_signing_in_again_wins_over_a_refresh_in_flight(
    client: Client, account: MailAccount, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    """A worker holding the refresh lease with the old refresh token finishes after the
    person signed in again: neither its token nor its 'revoked' verdict may replace theirs."""
    from accounts.oauth.client import TokenSet
    from accounts.services import oauth_tokens

    grant = OAuthGrant.objects.get(account=account)
    assert oauth_tokens._claim(grant.pk, "worker-1")  # its refresh is on the wire

    assert sign_in(client, test_ca, account=str(account.pk)).status_code == 302
    signed_in = OAuthGrant.objects.get(account=account)
    oauth_tokens._store(grant.pk, "worker-1", TokenSet("stale-access", 3600, "stale-refresh"))
    oauth_tokens._mark_needs_sign_in(grant, account, "worker-1")

    after = OAuthGrant.objects.get(account=account)
    assert signed_in.generation == grant.generation + 1 and signed_in.refresh_lease_owner == ""
    assert after.refresh_token() == signed_in.refresh_token() != "stale-refresh"
    assert after.access_token() == signed_in.access_token() != "stale-access"
    assert not after.needs_sign_in
