"""OAuth 2.0 bearer tokens over SASL: OAUTHBEARER (RFC 7628) and Google's and Microsoft's
older XOAUTH2. The same client messages serve IMAP AUTHENTICATE, SMTP AUTH and POP3 AUTH;
each protocol module only carries them.

Both are client-first: the initial response holds the token. A server that refuses the token
answers with a challenge (base64 JSON, e.g. {"status": "invalid_token"}) and waits for one
more client message before its final refusal: %x01 for OAUTHBEARER (RFC 7628 3.2.3), an
empty line for XOAUTH2.
"""

import base64
import binascii
from collections.abc import Iterable

OAUTHBEARER = "OAUTHBEARER"
XOAUTH2 = "XOAUTH2"
MECHANISMS = (OAUTHBEARER, XOAUTH2)  # in order of preference


def choose_mechanism(offered: Iterable[str]) -> str | None:
    """OAUTHBEARER, the standard, when offered; else XOAUTH2; None when neither is."""
    names = {name.upper() for name in offered}
    return next((mechanism for mechanism in MECHANISMS if mechanism in names), None)


def _saslname(user: str) -> str:
    # RFC 5801's saslname: "," and "=" would end or confuse the gs2-header's a= field.
    return user.replace("=", "=3D").replace(",", "=2C")


def oauthbearer(user: str, token: str, host: str | None = None, port: int | None = None) -> bytes:
    """RFC 7628 3.1's initial client response; host and port as its example sends them."""
    pairs = [f"host={host}"] if host else []
    pairs += [f"port={port}"] if port else []
    pairs.append(f"auth=Bearer {token}")
    fields = "".join(f"{pair}\x01" for pair in pairs)
    return f"n,a={_saslname(user)},\x01{fields}\x01".encode()


def xoauth2(user: str, token: str) -> bytes:
    """Google's and Microsoft's XOAUTH2 initial response (sent base64 encoded, like any)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def error_reply(mechanism: str) -> bytes:
    """What the client sends after the server's error challenge, to end the exchange."""
    return b"\x01" if mechanism == OAUTHBEARER else b""


def encoded(message: bytes) -> str:
    """A client message as a line of SMTP AUTH or POP3 AUTH (base64, RFC 4954, RFC 5034)."""
    return base64.b64encode(message).decode("ascii")


def decoded(challenge: bytes) -> bytes:
    """A server challenge's bytes; one that is not base64 still gets its closing message."""
    try:
        return base64.b64decode(challenge)
    except binascii.Error:
        return b""


class Exchange:
    """One sign-in's client side, as a callback for a library's SASL loop: the first call
    gives the initial response, any later one (the error challenge, whatever it says) the
    closing message. Its repr never shows the token."""

    def __init__(self, mechanism: str, initial: bytes) -> None:
        self.mechanism = mechanism
        self._initial: bytes | None = initial

    def __call__(self, challenge: bytes | None = None) -> bytes:
        if self._initial is not None:
            initial, self._initial = self._initial, None  # sent once, then forgotten
            return initial
        return error_reply(self.mechanism)

    def __repr__(self) -> str:
        return f"Exchange({self.mechanism})"


def exchange(
    mechanism: str, user: str, token: str, host: str | None = None, port: int | None = None
) -> Exchange:
    if mechanism == OAUTHBEARER:
        return Exchange(mechanism, oauthbearer(user, token, host, port))
    return Exchange(mechanism, xoauth2(user, token))
