"""signed_in_address(): the consenting account's verified address from an ID token."""

import base64
import json

import pytest

from accounts.oauth.client import TokenSet, signed_in_address


def id_token(claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def tokens(id_token: str | None) -> TokenSet:
    return TokenSet("access", 3600, "refresh", id_token)


def test_a_verified_address_is_read() -> None:
    claims = {"email": "alice@gmail.com", "email_verified": True, "sub": "1"}

    assert signed_in_address(tokens(id_token(claims))) == "alice@gmail.com"


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not-a-jwt",
        "a.b",
        "a.!!!.c",
        id_token(["a", "list"]),
        id_token({"email": "alice@gmail.com"}),  # not said to be verified
        id_token({"email": "alice@gmail.com", "email_verified": "true"}),  # a string, not true
        id_token({"email_verified": True}),
        id_token({"email": 7, "email_verified": True}),
    ],
)
def test_no_verified_address_is_none(token: str | None) -> None:
    assert signed_in_address(tokens(token)) is None
