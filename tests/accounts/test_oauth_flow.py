"""The OAuth 2.0 code flow against a local provider over HTTPS: start, consent, callback."""

import base64
import hashlib
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts import crypto
from accounts.models import MailAccount, OAuthGrant, User
from accounts.services.oauth import SESSION_KEY
from tests.accounts.factories import make_account
from tests.accounts.oauth_support import SITE_URL, consent, query_of, sign_in, start
from tests.harness.certs import TestCA
from tests.harness.oauth_authorization import CLIENT_ID, AuthorizationServer
from tests.harness.oauth_server import OAuthServer

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def alice(client: Client) -> User:
    user = User.objects.create_user("alice")
    client.force_login(user)
    return user


@pytest.fixture
def bob() -> tuple[User, Client]:
    user = User.objects.create_user("bob")
    browser = Client()
    browser.force_login(user)
    return user, browser


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_start_sends_the_person_to_the_provider_with_pkce_and_a_state(
    client: Client, alice: User, provider: AuthorizationServer
) -> None:
    response = start(client)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{provider.base_url}/google/authorize?")
    query = query_of(response["Location"])
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{SITE_URL}/settings/accounts/oauth/callback/"
    assert query["response_type"] == "code"
    assert query["scope"] == "https://mail.google.com/ openid email"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43
    assert query["access_type"] == "offline"
    assert query["login_hint"] == "alice@gmail.com"
    pending = client.session[SESSION_KEY][query["state"]]
    assert pending["user_id"] == alice.pk
    assert s256(pending["verifier"]) == query["code_challenge"]
    assert provider.token_requests == []


def test_the_right_callback_stores_the_refresh_token_encrypted(
    client: Client,
    alice: User,
    provider: AuthorizationServer,
    oauth_server: OAuthServer,
    test_ca: TestCA,
) -> None:
    started = start(client)
    challenge = query_of(started["Location"])["code_challenge"]

    response = client.get(consent(started, test_ca))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mail_accounts")
    [exchange] = provider.token_requests
    assert exchange["grant_type"] == "authorization_code"
    assert s256(exchange["code_verifier"]) == challenge
    account = MailAccount.objects.get(user=alice)
    assert (account.email, account.provider) == ("alice@gmail.com", "gmail")
    assert (account.incoming_host, account.smtp_host) == ("imap.gmail.com", "smtp.gmail.com")
    assert account.incoming_password_encrypted == ""  # no password: it signs in with tokens
    grant = account.oauth_grant
    assert grant.provider == "google"
    refresh_token = grant.refresh_token()
    assert refresh_token and refresh_token not in grant.refresh_token_encrypted
    assert crypto.decrypt(grant.refresh_token_encrypted) == refresh_token
    assert oauth_server.introspect(grant.access_token())["username"] == "alice@gmail.com"
    assert grant.access_token_expires_at is not None and not grant.needs_sign_in


def test_a_state_works_once(
    client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    callback = consent(start(client), test_ca)
    assert client.get(callback).status_code == 302

    again = client.get(callback)

    assert again.status_code == 400
    assert len(provider.token_requests) == 1


@pytest.mark.parametrize("tamper", ["changed", "missing"])
def test_a_state_mismatch_is_refused_without_a_token_request(
    tamper: str, client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    query = query_of(consent(start(client), test_ca))
    query["state"] = query["state"][:-2] + "xx" if tamper == "changed" else ""

    response = client.get(reverse("accounts:oauth_callback"), query)

    assert response.status_code == 400
    assert b"was not started here" in response.content
    assert provider.token_requests == []
    assert not MailAccount.objects.exists()


def test_another_persons_callback_is_refused_without_a_token_request(
    client: Client,
    alice: User,
    bob: tuple[User, Client],
    provider: AuthorizationServer,
    test_ca: TestCA,
) -> None:
    callback = consent(start(client), test_ca)  # alice's, opened in bob's browser

    response = bob[1].get(callback)

    assert response.status_code == 400
    assert provider.token_requests == []
    assert not MailAccount.objects.exists()


def test_a_state_carried_into_another_users_session_is_refused(
    client: Client,
    alice: User,
    bob: tuple[User, Client],
    provider: AuthorizationServer,
    test_ca: TestCA,
) -> None:
    callback = consent(start(client), test_ca)
    bobs_session = bob[1].session
    bobs_session[SESSION_KEY] = client.session[SESSION_KEY]
    bobs_session.save()

    response = bob[1].get(callback)

    assert response.status_code == 400
    assert b"started by somebody else" in response.content
    assert provider.token_requests == []


def test_a_refused_consent_is_explained_without_a_token_request(
    client: Client, alice: User, provider: AuthorizationServer
) -> None:
    state = query_of(start(client)["Location"])["state"]

    response = client.get(
        reverse("accounts:oauth_callback"), {"state": state, "error": "access_denied"}
    )

    assert response.status_code == 400
    assert b"did not grant access (access_denied)" in response.content
    assert provider.token_requests == []


def test_microsoft_addresses_use_the_microsoft_entry(
    client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    started = start(client, email="alice@outlook.com", provider="outlook")
    assert started["Location"].startswith(f"{provider.base_url}/microsoft/authorize?")
    assert "offline_access" in query_of(started["Location"])["scope"].split()

    assert client.get(consent(started, test_ca)).status_code == 302

    assert OAuthGrant.objects.get(account__email="alice@outlook.com").provider == "microsoft"


def test_an_unconfigured_provider_falls_back_to_passwords(
    client: Client, alice: User, provider: AuthorizationServer, settings: Any
) -> None:
    settings.OAUTH_MICROSOFT_CLIENT_SECRET = ""

    response = start(client, email="alice@outlook.com", provider="outlook")

    assert response.status_code == 400
    assert b"not set up here: use a password" in response.content
    assert provider.authorize_requests == [] and SESSION_KEY not in client.session


def test_signing_in_again_renews_the_grant_of_that_account(
    client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    sign_in(client, test_ca)
    account = MailAccount.objects.get(user=alice)
    OAuthGrant.objects.filter(account=account).update(needs_sign_in=True, sign_in_problem="x")

    response = sign_in(client, test_ca, account=str(account.pk))

    assert response.status_code == 302
    grant = OAuthGrant.objects.get(account=account)
    assert not grant.needs_sign_in and grant.sign_in_problem == ""
    assert MailAccount.objects.filter(user=alice).count() == 1


def test_the_edit_page_of_an_oauth_account_offers_signing_in_again_not_passwords(
    client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    sign_in(client, test_ca)
    account = MailAccount.objects.get(user=alice)

    page = client.get(reverse("accounts:mail_account_edit", args=[account.pk])).content.decode()

    assert 'name="password"' not in page and 'name="smtp_password"' not in page
    assert "no password is stored" in page
    assert '<button type="submit" form="oauth-start">Sign in with Google again</button>' in page
    assert f'<input type="hidden" name="account" value="{account.pk}">' in page
    again = start(client, account=str(account.pk))
    assert query_of(again["Location"])["login_hint"] == account.email


def test_the_edit_page_of_a_password_account_keeps_its_password_fields(
    client: Client, alice: User, provider: AuthorizationServer
) -> None:
    account = make_account(alice, "alice@example.test")

    page = client.get(reverse("accounts:mail_account_edit", args=[account.pk])).content.decode()

    assert 'name="password"' in page and 'name="smtp_password"' in page
    assert "Sign in with" not in page


def test_consenting_as_another_mailbox_is_refused_and_stores_nothing(
    client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    provider.consent_as = "someone.else@gmail.com"  # login_hint is only a hint

    response = sign_in(client, test_ca)

    assert response.status_code == 400
    page = response.content.decode()
    assert "You signed in to Google as someone.else@gmail.com, not as alice@gmail.com" in page
    assert not MailAccount.objects.filter(user=alice).exists()
    assert not OAuthGrant.objects.exists()


def test_signing_in_again_as_another_mailbox_keeps_the_grant_as_it_was(
    client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    sign_in(client, test_ca)
    account = MailAccount.objects.get(user=alice)
    before = OAuthGrant.objects.get(account=account).refresh_token_encrypted
    provider.consent_as = "someone.else@gmail.com"

    response = sign_in(client, test_ca, account=str(account.pk))

    assert response.status_code == 400
    assert b"not as alice@gmail.com" in response.content
    assert OAuthGrant.objects.get(account=account).refresh_token_encrypted == before


def csp_form_action(response: Any) -> str:
    policy = response["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith("form-action "))


def test_pages_with_sign_in_buttons_let_their_forms_go_on_to_the_provider(
    client: Client, alice: User, provider: AuthorizationServer, test_ca: TestCA
) -> None:
    """Chromium applies form-action to where the POST to oauth_start is redirected."""
    sign_in(client, test_ca)
    account = MailAccount.objects.get(user=alice)
    pages = [
        reverse("accounts:mail_account_add"),
        reverse("accounts:mail_accounts"),
        reverse("accounts:mail_account_edit", args=[account.pk]),
    ]

    for page in pages:
        assert csp_form_action(client.get(page)) == f"form-action 'self' {provider.base_url}"
    assert csp_form_action(client.get(reverse("mail:inbox"))) == "form-action 'self'"


def test_without_a_provider_set_up_forms_stay_on_this_site(
    client: Client, alice: User, provider: AuthorizationServer, settings: Any
) -> None:
    settings.OAUTH_GOOGLE_CLIENT_ID = settings.OAUTH_MICROSOFT_CLIENT_ID = ""

    response = client.get(reverse("accounts:mail_account_add"))

    assert csp_form_action(response) == "form-action 'self'"


def test_nobody_signs_in_again_for_another_persons_account(
    alice: User, bob: tuple[User, Client], provider: AuthorizationServer
) -> None:
    account = make_account(alice, "alice@gmail.com")

    response = start(bob[1], account=str(account.pk))

    assert response.status_code == 404
    assert provider.authorize_requests == []


def discover(client: Client, email: str) -> str:
    form = {"email": email, "action": "discover"}
    return client.post(reverse("accounts:mail_account_add"), form).content.decode()


def test_add_account_offers_sign_in_with_the_provider_discovery_found(
    client: Client, alice: User, provider: AuthorizationServer
) -> None:
    page = discover(client, "alice@gmail.com")

    assert '<button type="submit" form="oauth-start">Sign in with Google</button>' in page
    assert 'form="oauth-start" name="provider" value="gmail"' in page
    assert 'form="oauth-start" name="email" value="alice@gmail.com"' in page
    start_url = reverse("accounts:oauth_start")
    assert f'<form id="oauth-start" method="post" action="{start_url}">' in page


def test_add_account_falls_back_to_passwords_when_the_provider_is_not_set_up(
    client: Client, alice: User, provider: AuthorizationServer, settings: Any
) -> None:
    settings.OAUTH_GOOGLE_CLIENT_ID = ""

    page = discover(client, "alice@gmail.com")

    assert "Sign in with Google</button>" not in page
    assert "Signing in with Google is not set up on this server: use a password" in page


def test_a_malformed_address_is_refused_before_the_provider(
    client: Client, alice: User, provider: AuthorizationServer
) -> None:
    response = start(client, email="not an address")

    assert response.status_code == 400
    assert SESSION_KEY not in client.session
