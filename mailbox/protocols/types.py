"""Small value types shared by the protocol layer and its callers."""

from dataclasses import dataclass
from enum import StrEnum


class Security(StrEnum):
    NONE = "none"  # plain text: only when a person asks for it, never proposed
    STARTTLS = "starttls"
    TLS = "tls"  # implicit TLS from the first byte


class Protocol(StrEnum):
    IMAP = "imap"
    POP3 = "pop3"
    SMTP = "smtp"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: Security


@dataclass(frozen=True)
class NetworkPolicy:
    """How connections are made; built by the caller from settings, so no Django here.

    `dns_server` ("host" or "host:port") replaces the system resolver when set.
    `allow_private` lets host names resolve to loopback/private addresses (tests, home servers).
    `ca_file` adds a trust anchor; None means the system store (which honours SSL_CERT_FILE).
    """

    timeout: float = 30.0
    allow_private: bool = False
    dns_server: str | None = None
    ca_file: str | None = None


@dataclass(frozen=True)
class Credentials:
    """A password, or an OAuth 2.0 access token: when `oauth_token` is set, the sign-in uses
    it (OAUTHBEARER or XOAUTH2) and `password` is not sent."""

    username: str
    password: str
    oauth_token: str | None = None

    def __repr__(self) -> str:  # never let a password or token reach a log or a traceback
        token = None if self.oauth_token is None else "***"
        return f"Credentials(username={self.username!r}, password='***', oauth_token={token!r})"


@dataclass(frozen=True)
class RecipientRefused:
    """A recipient the SMTP server refused at RCPT TO, with its reply ("550 5.1.1 ...")."""

    address: str
    code: int
    reply: str

    @property
    def is_temporary(self) -> bool:
        return 400 <= self.code < 500
