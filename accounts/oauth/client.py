"""The OAuth 2.0 client side: PKCE (RFC 7636), the authorisation URL, the token endpoint.

Token requests go over HTTPS with requests, verified against the system's CA store (the one
every mail connection trusts, honouring SSL_CERT_FILE), not certifi's copy. Nothing here logs
or puts a token, code, verifier or secret into an exception message.
"""

import base64
import hashlib
import json
import secrets
import ssl
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from accounts.oauth.providers import OAuthProvider


@dataclass(frozen=True)
class Client:
    """The operator's registration at one provider."""

    provider: OAuthProvider
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    expires_in: int  # seconds
    refresh_token: str | None  # None: keep the one we have (no rotation)
    id_token: str | None = None  # OpenID Connect, when the "openid" scope was asked for


class TokenRequestFailed(Exception):
    """The token endpoint could not be reached or answered something unusable (try later)."""


class OAuthError(Exception):
    """The token endpoint refused, with an RFC 6749 5.2 error code (safe to show)."""

    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code


def new_verifier() -> str:
    """A PKCE code verifier: 43 characters of base64url (256 random bits)."""
    return secrets.token_urlsafe(32)


def challenge_of(verifier: str) -> str:
    """S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(client: Client, *, state: str, challenge: str, login_hint: str) -> str:
    params = {
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "response_type": "code",
        "scope": " ".join(client.provider.scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "login_hint": login_hint,
        **dict(client.provider.authorization_params),
    }
    return f"{client.provider.authorization_endpoint}?{urlencode(params)}"


def exchange_code(client: Client, *, code: str, verifier: str, timeout: float) -> TokenSet:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": client.redirect_uri,
    }
    return _token_request(client, form, timeout)


def refresh(client: Client, *, refresh_token: str, timeout: float) -> TokenSet:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(client, form, timeout)


def _trust_store() -> str | bool:
    paths = ssl.get_default_verify_paths()  # SSL_CERT_FILE / SSL_CERT_DIR win when set
    return paths.cafile or paths.capath or True


def _token_request(client: Client, form: dict[str, str], timeout: float) -> TokenSet:
    # client_secret_post: both Google and Microsoft accept the credentials in the form.
    form = {**form, "client_id": client.client_id, "client_secret": client.client_secret}
    try:
        response = requests.post(
            client.provider.token_endpoint,
            data=form,
            headers={"Accept": "application/json"},
            timeout=timeout,
            verify=_trust_store(),
            allow_redirects=False,
        )
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise TokenRequestFailed(f"{client.provider.name}: {type(exc).__name__}") from None
    if not isinstance(body, dict):
        raise TokenRequestFailed(f"{client.provider.name}: the answer is not a JSON object")
    if response.status_code != 200 or "error" in body:
        if isinstance(body.get("error"), str) and response.status_code < 500:
            raise OAuthError(body["error"], str(body.get("error_description", ""))[:300])
        raise TokenRequestFailed(f"{client.provider.name}: HTTP {response.status_code}")
    return _token_set(body, client.provider.name)


def _token_set(body: dict[str, object], provider: str) -> TokenSet:
    access, refresh_token = body.get("access_token"), body.get("refresh_token")
    if not isinstance(access, str) or not access:
        raise TokenRequestFailed(f"{provider}: the answer has no access token")
    try:
        expires_in = int(body.get("expires_in", 3600))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        expires_in = 3600
    id_token = body.get("id_token")
    return TokenSet(
        access,
        expires_in,
        refresh_token if isinstance(refresh_token, str) else None,
        id_token if isinstance(id_token, str) else None,
    )


def signed_in_address(tokens: TokenSet) -> str | None:
    """The verified address of the account that consented, from the ID token's claims; None
    when there is no ID token or it names no verified address.

    The signature is not checked: the token came straight from the provider's token endpoint
    over verified TLS, which OpenID Connect Core (3.1.3.7) accepts in its place."""
    parts = (tokens.id_token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict) or claims.get("email_verified") is not True:
        return None
    email = claims.get("email")
    return email if isinstance(email, str) and email else None
