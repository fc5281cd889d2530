"""Typed errors of the protocol layer. Services map them to words for people.

No message here ever contains a password or token: errors carry host names, ports, server
replies and certificate fingerprints only.
"""

from mailbox.protocols.types import RecipientRefused


class MailProtocolError(Exception):
    """Base class: something went wrong talking to a mail (or autoconfig) server."""


class NameNotFound(MailProtocolError):
    def __init__(self, host: str) -> None:
        super().__init__(f"the name {host} was not found")
        self.host = host


class ForbiddenAddress(MailProtocolError):
    """The host resolves to an address we refuse to connect to (loopback, private, ...)."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}, a private or reserved address")
        self.host = host
        self.address = address


class ConnectionRefused(MailProtocolError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"{host} refused the connection on port {port}")
        self.host, self.port = host, port


class TimedOut(MailProtocolError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"{host} did not answer on port {port} in time")
        self.host, self.port = host, port


class ConnectFailed(MailProtocolError):
    """Any other network failure (connection reset, unreachable network, ...)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"could not talk to {host} on port {port}: {reason}")
        self.host, self.port, self.reason = host, port, reason


class CertificateUntrusted(MailProtocolError):
    """The server's certificate is not trusted (or is not the pinned one).

    `fingerprint` is the SHA-256 of the certificate the server presented, as colon-separated
    hex pairs, so a person can choose to trust exactly that certificate.
    """

    def __init__(self, host: str, port: int, reason: str, fingerprint: str | None) -> None:
        super().__init__(f"the certificate of {host} is not trusted: {reason}")
        self.host, self.port, self.reason, self.fingerprint = host, port, reason, fingerprint


class TlsUnavailable(MailProtocolError):
    """The server does not offer STARTTLS, so we will not send a password."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"{host} does not offer an encrypted connection on port {port}")
        self.host, self.port = host, port


class AuthFailed(MailProtocolError):
    """The server refused the user name or password. `server_reply` is its own words."""

    def __init__(self, host: str, server_reply: str) -> None:
        super().__init__(f"{host} refused the sign-in: {server_reply}")
        self.host, self.server_reply = host, server_reply


class TokenRejected(AuthFailed):
    """The server refused the OAuth access token (expired, revoked, unknown): refreshing the
    token and signing in once more may help, unlike a wrong password. Never holds the token."""


class ProtocolFailure(MailProtocolError):
    """The server answered something we did not expect (not a mail server, broken reply)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"{host} on port {port} answered unexpectedly: {reason}")
        self.host, self.port, self.reason = host, port, reason


class FolderMissing(MailProtocolError):
    """The folder does not exist (any more) on the server."""

    def __init__(self, folder: str, server_reply: str = "") -> None:
        super().__init__(f"the folder {folder!r} does not exist on the server")
        self.folder, self.server_reply = folder, server_reply


class MessageMissing(MailProtocolError):
    """The message is gone from the selected folder (expunged elsewhere) or never was there."""

    def __init__(self, uid: int) -> None:
        super().__init__(f"message {uid} is no longer in the folder")
        self.uid = uid


class ActionRefused(MailProtocolError):
    """The server answered NO or BAD to a command. `server_reply` is its own words."""

    def __init__(self, command: str, server_reply: str) -> None:
        super().__init__(f"the server refused {command}: {server_reply}")
        self.command, self.server_reply = command, server_reply


class SubmitFailure(MailProtocolError):
    """Sending one message (MAIL, RCPT, DATA) failed; the connection itself was fine before.

    `step` names where ("MAIL FROM", "RCPT TO", "DATA", "end of data", "size", ...);
    `server_reply` is the server's own words ("550 5.1.1 ...", "" when it said nothing);
    `refused` lists the recipients the server refused, each with its reply.
    """

    def __init__(
        self,
        host: str,
        step: str,
        reason: str,
        server_reply: str = "",
        refused: tuple[RecipientRefused, ...] = (),
    ) -> None:
        super().__init__(f"{host}, at {step}: {reason}")
        self.host, self.step, self.reason = host, step, reason
        self.server_reply, self.refused = server_reply, refused


class TemporaryFailure(SubmitFailure):
    """A 4xx reply, or the connection lost before the end of data went out: safe to retry."""


class PermanentFailure(SubmitFailure):
    """A 5xx reply, or a message the server cannot take (too big, ...): retrying won't help."""


class OutcomeUnknown(SubmitFailure):
    """The end of data went out and no reply came back: the server may have taken it.

    The one undecidable case; the message must not be sent again without a person's say.
    """


def redact(text: str, secret: str) -> str:
    """`text` with `secret` masked: a broken or hostile server may echo what it received."""
    return text.replace(secret, "***") if secret else text
