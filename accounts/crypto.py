"""Secrets at rest: mail passwords and tokens, encrypted with keys from the environment.

MultiFernet over MAIL_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so an
operator rotates by putting a new key first and running `manage.py reencrypt_secrets`.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.MAIL_ENCRYPTION_KEYS))


def encrypt(secret: str) -> str:
    return _current().encrypt(secret.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        # No detail: the token itself is secret material.
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with MAIL_ENCRYPTION_KEYS"
        ) from None


def rotate(token: str) -> str:
    """The same secret, encrypted under the newest key."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with MAIL_ENCRYPTION_KEYS"
        ) from None
