"""A valid access token for an OAuth account, refreshed by whichever process needs one.

`access_token_for(account)` answers the stored token while it has more than REFRESH_MARGIN
left; otherwise, or with `force=True` (the mail server refused it: TokenRejected), it refreshes
it at the provider's token endpoint. One refresh per account at a time across every worker:
the grant row's refresh lease is taken with a conditional UPDATE, as the sync lease is
(mailbox/services/lease.py), in the database rather than Redis, so a Redis restart cannot let
two refreshes race (Microsoft rotates refresh tokens; the loser of a race could store a spent
one). A worker that finds the lease taken polls the row until the holder's refresh bumps its
`generation`, then uses that token; if the holder gave up, it takes the lease itself.

    fresh ──expiring / rejected──▶ lease claimed ──200──▶ fresh (generation + 1)
                                        ├── invalid_grant ──▶ needs_sign_in (SignInRequired)
                                        └── other failure ──▶ unchanged (TokenUnavailable)

`needs_sign_in` answers at once, with no request, until the person signs in again
(accounts/services/oauth.py): a revoked grant never turns into a retry storm.
"""

import datetime as dt
import logging
import time
import uuid

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts import crypto
from accounts.models import MailAccount, OAuthGrant
from accounts.oauth import client as oauth
from accounts.services.oauth import client_for, provider
from mailbox.protocols.errors import MailProtocolError

logger = logging.getLogger(__name__)

REFRESH_MARGIN = dt.timedelta(minutes=5)
POLL_SECONDS = 0.1


# Mail protocol errors, so that everything opening a session (sync, action replay, sending,
# Sent and Drafts copies) treats them like a server it cannot sign in to right now: it keeps
# the work and tries later. Their message is for the person.
class SignInRequired(MailProtocolError):
    """The account must sign in with its provider again."""


class TokenUnavailable(MailProtocolError):
    """No token right now (provider unreachable, another refresh stuck): try again later."""


@sensitive_variables()  # error reports never show a token (webmail/debug.py)
def access_token_for(account: MailAccount, *, force: bool = False) -> str:
    grant = _load(account)
    if not force and _is_fresh(grant, REFRESH_MARGIN):
        return grant.access_token()
    seen = grant.generation
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + _lease_seconds()
    while True:
        if _claim(grant.pk, owner):
            try:
                return _refresh_holding_lease(account, owner, seen, force)
            finally:
                _release(grant.pk, owner)
        if time.monotonic() > deadline:
            raise TokenUnavailable("Another process is still renewing the sign-in: try again.")
        time.sleep(POLL_SECONDS)
        grant = _load(account)
        if grant.generation != seen and _is_fresh(grant):
            return grant.access_token()  # the lease holder refreshed it for us


def _load(account: MailAccount) -> OAuthGrant:
    grant = OAuthGrant.objects.filter(account_id=account.pk).first()
    if grant is None:
        raise SignInRequired(f"{account.email} has not signed in with its provider.")
    if grant.needs_sign_in:
        raise SignInRequired(grant.sign_in_problem or f"{account.email} must sign in again.")
    return grant


def _is_fresh(grant: OAuthGrant, margin: dt.timedelta = dt.timedelta(0)) -> bool:
    expires_at = grant.access_token_expires_at
    return bool(grant.access_token_encrypted) and (
        expires_at is not None and expires_at > timezone.now() + margin
    )


def _lease_seconds() -> float:
    # Longer than one token request may take (its timeout), so a live holder keeps it.
    return 2 * settings.MAIL_NETWORK_TIMEOUT_SECONDS + 5


def _claim(grant_id: int, owner: str) -> bool:
    now = timezone.now()
    free = Q(refresh_lease_expires_at__isnull=True) | Q(refresh_lease_expires_at__lt=now)
    claimed = OAuthGrant.objects.filter(free, pk=grant_id, needs_sign_in=False).update(
        refresh_lease_owner=owner,
        refresh_lease_expires_at=now + dt.timedelta(seconds=_lease_seconds()),
    )
    return claimed == 1


def _release(grant_id: int, owner: str) -> None:
    OAuthGrant.objects.filter(pk=grant_id, refresh_lease_owner=owner).update(
        refresh_lease_owner="", refresh_lease_expires_at=None
    )


@sensitive_variables()
def _refresh_holding_lease(account: MailAccount, owner: str, seen: int, force: bool) -> str:
    grant = _load(account)
    # Refreshed by another worker between our first look and our claim: use theirs.
    if (grant.generation != seen or not force) and _is_fresh(grant, REFRESH_MARGIN):
        return grant.access_token()
    client = client_for(grant.provider)
    if client is None:
        raise TokenUnavailable(f"Sign-in with {grant.provider} is not set up on this server.")
    try:
        tokens = oauth.refresh(
            client,
            refresh_token=grant.refresh_token(),
            timeout=settings.MAIL_NETWORK_TIMEOUT_SECONDS,
        )
    except oauth.OAuthError as exc:
        if exc.code == "invalid_grant":
            raise SignInRequired(_mark_needs_sign_in(grant, account, owner)) from None
        raise TokenUnavailable(f"{client.provider.name} refused to renew ({exc.code}).") from None
    except oauth.TokenRequestFailed as exc:
        raise TokenUnavailable(str(exc)) from None
    _store(grant.pk, owner, tokens)
    return tokens.access_token


@sensitive_variables()
def _store(grant_id: int, owner: str, tokens: oauth.TokenSet) -> None:
    changes: dict[str, object] = {
        "access_token_encrypted": crypto.encrypt(tokens.access_token),
        "access_token_expires_at": timezone.now() + dt.timedelta(seconds=tokens.expires_in),
        "generation": F("generation") + 1,
        "updated_at": timezone.now(),
    }
    if tokens.refresh_token:  # rotated (Microsoft): the old one stops working soon
        changes["refresh_token_encrypted"] = crypto.encrypt(tokens.refresh_token)
    stored = OAuthGrant.objects.filter(pk=grant_id, refresh_lease_owner=owner).update(**changes)
    if not stored:
        logger.warning("OAuth grant %s: lease lost before the new token was stored", grant_id)


def _mark_needs_sign_in(grant: OAuthGrant, account: MailAccount, owner: str) -> str:
    found = provider(grant.provider)
    name = found.name if found else grant.provider
    problem = (
        f"{name} no longer accepts this app's access to {account.email} (it was revoked, or "
        f"the password changed). Sign in with {name} again to keep receiving and sending mail."
    )
    # Only while the lease is ours: a sign-in meanwhile took it away with the old token.
    OAuthGrant.objects.filter(pk=grant.pk, refresh_lease_owner=owner).update(
        needs_sign_in=True,
        sign_in_problem=problem,
        access_token_encrypted="",
        access_token_expires_at=None,
        updated_at=timezone.now(),
    )
    logger.info("OAuth grant %s refused by %s: the account must sign in again", grant.pk, name)
    return problem
