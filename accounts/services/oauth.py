"""OAuth 2.0 sign-in for a mail account: which providers are set up, and the code flow.

`do_start` remembers a pending sign-in in the person's session under a random `state` (with
the PKCE verifier and the user it belongs to) and gives the provider's authorisation URL;
`do_finish` takes the provider's answer, refuses a state this session and user did not
start before any token request, exchanges the code with the verifier, and stores the
grant, creating the account the first time. Tokens are refreshed in oauth_tokens.py.
"""

import datetime as dt
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts import crypto
from accounts.discovery import providers as mail_providers
from accounts.discovery.types import EmailAddress, Source
from accounts.models import MailAccount, OAuthGrant, User
from accounts.oauth import client as oauth
from accounts.oauth.providers import OAuthProvider, load_oauth_providers
from accounts.services.mail_accounts import AccountSettings, do_create_account

SESSION_KEY = "oauth_sign_ins"
FLOW_SECONDS = 10 * 60  # a consent page left open longer than this starts over
MAX_PENDING = 5  # sign-ins started in other tabs that are still waiting


class SignInRefused(Exception):
    """The callback cannot be used; the message is for the person."""


@dataclass(frozen=True)
class Availability:
    provider: OAuthProvider
    is_available: bool  # False: the operator has not registered the app there


def provider(provider_id: str) -> OAuthProvider | None:
    return load_oauth_providers(settings.OAUTH_PROVIDERS_FILE).get(provider_id)


def availability(provider_id: str) -> Availability | None:
    """None for an unknown provider; unavailable when its client id or secret is empty."""
    found = provider(provider_id)
    if found is None:
        return None
    return Availability(found, _client(found) is not None)


def client_for(provider_id: str) -> oauth.Client | None:
    found = provider(provider_id)
    return _client(found) if found else None


def authorization_origins() -> list[str]:
    """The origins of the sign-in pages of the providers set up here (for the CSP)."""
    origins = set()
    for found in load_oauth_providers(settings.OAUTH_PROVIDERS_FILE).values():
        parts = urlsplit(found.authorization_endpoint)
        if _client(found) is not None and parts.scheme == "https" and parts.netloc:
            origins.add(f"https://{parts.netloc}")
    return sorted(origins)


def redirect_uri() -> str:
    return settings.SITE_URL + reverse("accounts:oauth_callback")


def _client(found: OAuthProvider) -> oauth.Client | None:
    client_id = getattr(settings, found.client_id_setting, "")
    secret = getattr(settings, found.client_secret_setting, "")
    if not client_id or not secret:
        return None
    return oauth.Client(found, client_id, secret, redirect_uri())


# The flow ---------------------------------------------------------------------------------


@sensitive_variables()  # the PKCE verifier
def do_start(
    session: SessionBase, user: User, *, email: str, mail_provider_id: str, account_id: int | None
) -> str:
    """The URL to send the person to; raises SignInRefused when the provider is not set up."""
    mail_provider = _mail_provider(mail_provider_id)
    if mail_provider is None or not mail_provider.oauth:
        raise SignInRefused("This provider does not offer signing in with OAuth.")
    client = client_for(mail_provider.oauth)
    if client is None:
        raise SignInRefused("Signing in with this provider is not set up here: use a password.")
    state, verifier = secrets.token_urlsafe(32), oauth.new_verifier()
    pending = _pending(session)
    pending[state] = {
        "user_id": user.pk,
        "verifier": verifier,
        "email": email,
        "mail_provider": mail_provider.id,
        "account_id": account_id,
        "since": time.time(),
    }
    newest = sorted(pending.items(), key=lambda item: item[1]["since"])[-MAX_PENDING:]
    session[SESSION_KEY] = dict(newest)
    return oauth.authorization_url(
        client, state=state, challenge=oauth.challenge_of(verifier), login_hint=email
    )


@sensitive_variables()  # the code, the verifier, the tokens
def do_finish(session: SessionBase, user: User, params: dict[str, str]) -> MailAccount:
    """Completes a sign-in from the callback's query; raises SignInRefused with the reason."""
    flow = _take_flow(session, user, params.get("state", ""))
    if params.get("error"):
        # The provider's own code (access_denied, ...): never its free text, which we don't vet.
        raise SignInRefused(f"The provider did not grant access ({params['error'][:50]}).")
    if not params.get("code"):
        raise SignInRefused("The provider's answer has no authorisation code.")
    mail_provider = _mail_provider(flow["mail_provider"])
    client = client_for(mail_provider.oauth or "") if mail_provider else None
    if mail_provider is None or client is None:
        raise SignInRefused("Signing in with this provider is not set up here any more.")
    try:
        tokens = oauth.exchange_code(
            client,
            code=params["code"],
            verifier=flow["verifier"],
            timeout=settings.MAIL_NETWORK_TIMEOUT_SECONDS,
        )
    except oauth.OAuthError as exc:
        raise SignInRefused(f"{client.provider.name} refused the sign-in ({exc.code}).") from None
    except oauth.TokenRequestFailed:
        raise SignInRefused(f"{client.provider.name} could not be reached: try again.") from None
    if not tokens.refresh_token:
        raise SignInRefused(f"{client.provider.name} gave no refresh token: sign in again.")
    _check_mailbox(user, flow, client.provider.name, tokens)
    return do_store_grant(user, flow, mail_provider, client.provider.id, tokens)


def _check_mailbox(user: User, flow: dict[str, Any], provider: str, tokens: oauth.TokenSet) -> None:
    """The person may consent as another account than the address typed (login_hint is
    only a hint): its tokens would then read somebody else's mail under this name."""
    consented = oauth.signed_in_address(tokens)
    expected = flow["email"]
    if flow["account_id"] is not None:
        account = MailAccount.objects.filter(pk=flow["account_id"], user=user).first()
        expected = account.email if account else expected
    if consented is not None and consented.casefold() != expected.casefold():
        raise SignInRefused(
            f"You signed in to {provider} as {consented}, not as {expected}. "
            f"Sign in as {expected}, or add {consented} as an account of its own."
        )


def _mail_provider(mail_provider_id: str) -> mail_providers.Provider | None:
    return next((p for p in mail_providers.load_providers() if p.id == mail_provider_id), None)


def _pending(session: SessionBase) -> dict[str, dict[str, Any]]:
    now = time.time()
    stored = session.get(SESSION_KEY) or {}
    return {k: v for k, v in stored.items() if now - v.get("since", 0) < FLOW_SECONDS}


def _take_flow(session: SessionBase, user: User, state: str) -> dict[str, Any]:
    """The pending sign-in `state` names, removed from the session (a state works once)."""
    pending = _pending(session)
    flow = pending.pop(state, None) if state else None
    session[SESSION_KEY] = pending
    if flow is None:
        raise SignInRefused(
            "This sign-in was not started here, or it took too long: start it again."
        )
    if flow["user_id"] != user.pk:
        raise SignInRefused("This sign-in was started by somebody else: start it again.")
    return flow


@sensitive_variables()
@transaction.atomic
def do_store_grant(
    user: User,
    flow: dict[str, Any],
    mail_provider: mail_providers.Provider,
    oauth_provider_id: str,
    tokens: oauth.TokenSet,
) -> MailAccount:
    """Saves the tokens on the account the sign-in was for, creating it the first time."""
    if flow["account_id"] is not None:  # signing in again
        account = MailAccount.objects.filter(pk=flow["account_id"], user=user).first()
        if account is None:
            raise SignInRefused("That account was removed in the meantime.")
    else:
        account = MailAccount.objects.filter(user=user, email__iexact=flow["email"]).first()
    if account is None:
        account = _create_account(user, flow["email"], mail_provider)
    expires_at = timezone.now() + dt.timedelta(seconds=tokens.expires_in)
    fresh = {
        "provider": oauth_provider_id,
        "refresh_token_encrypted": crypto.encrypt(tokens.refresh_token or ""),
        "access_token_encrypted": crypto.encrypt(tokens.access_token),
        "access_token_expires_at": expires_at,
        "needs_sign_in": False,
        "sign_in_problem": "",
    }
    # Signing in again ends a refresh in flight: its lease goes (its writes are conditional on
    # it, so the old token never overwrites these) and the generation moves on.
    OAuthGrant.objects.update_or_create(
        account=account,
        create_defaults=fresh,
        defaults={
            **fresh,
            "refresh_lease_owner": "",
            "refresh_lease_expires_at": None,
            "generation": F("generation") + 1,
        },
    )
    return account


def _create_account(user: User, email: str, mail_provider: mail_providers.Provider) -> MailAccount:
    found = mail_provider.discovery(EmailAddress.parse(email), Source.PROVIDERS)
    values = AccountSettings(
        email=email,
        display_name="",
        incoming_protocol=found.protocol,
        incoming=found.incoming,
        incoming_username=found.username,
        smtp=found.outgoing,
        smtp_username=found.outgoing_username,
        provider=mail_provider.id,
    )
    return do_create_account(user, values, incoming=None, smtp=None)
