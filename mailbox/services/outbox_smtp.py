"""One account's SMTP session, shared by the messages of a batch (mailbox/services/outbox.py).

Opened when the first message needs it. After a message, the session is ready for the next:
a 250 ends the mail transaction (RFC 5321 4.1.1.4), and smtp_send.submit puts a session back
with RSET after any refusal. A session the server or the network broke (smtplib then has no
socket) is opened again for the next message. If opening fails, the same failure answers every
later message of the batch at once, instead of one connect time-out each (or, for an OAuth
account, one token request each).
"""

from contextlib import ExitStack
from types import TracebackType

from accounts.models import MailAccount
from accounts.services.oauth_tokens import SignInRequired, TokenUnavailable
from mailbox.protocols.errors import MailProtocolError
from mailbox.protocols.smtp import SmtpClient
from mailbox.services.connections import smtp_session


class SmtpLine:
    def __init__(self, account: MailAccount) -> None:
        self.account = account
        self.opened = 0  # sessions opened: 1 unless one broke
        self._client: SmtpClient | None = None
        self._stack = ExitStack()
        self._cannot_open: Exception | None = None

    def client(self) -> SmtpClient:
        """A signed-in session; raises the typed error of a failed connect or sign-in."""
        if self._cannot_open is not None:
            raise self._cannot_open
        if self._client is not None and self._client.sock is not None:
            return self._client
        self.close()
        try:
            self._client = self._stack.enter_context(smtp_session(self.account))
        except (MailProtocolError, SignInRequired, TokenUnavailable) as exc:
            self._cannot_open = exc
            raise
        self.opened += 1
        return self._client

    def close(self) -> None:
        """QUIT (or just drop a broken session); a new one opens when next needed."""
        self._client = None
        self._stack.close()

    def __enter__(self) -> "SmtpLine":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
