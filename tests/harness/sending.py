"""Helpers for the tests that send through the real outbox, worker and servers.

- `account_for()`: a person's account on the fixture Dovecot (IMAP) and Postfix (SMTP, or a
  proxy in front of it).
- `wait_for()` / `outgoing()`: what the worker records, polled from the database.
- `copies()`: the messages of a folder that carry one Message-ID, once Postfix's queue is
  empty (so none arrives later): "exactly once" is `len(copies(...)) == 1`.
- `SenderReplies`: a private Postfix that answers chosen senders' MAIL FROM with a chosen
  reply (a real `421 ...`, after which Postfix hangs up), through `check_sender_access`.
"""

import email
import email.policy
import os
import smtplib
import time
from collections.abc import Callable
from typing import TypeVar

from accounts.models import MailAccount, User
from mailbox.models import OutgoingMessage
from mailbox.protocols.types import Security, Server
from tests.accounts.factories import make_account
from tests.harness.daemons import run
from tests.harness.mailservers import MailServers, MailUser

T = TypeVar("T")
SETTLED = ("sent", "failed", "unknown")


def account_for(
    user: MailUser, servers: MailServers, owner: str, smtp_port: int | None = None
) -> MailAccount:
    """`smtp_port`: a proxy's port on 127.0.0.1 instead of Postfix's submissions port."""
    e = servers.endpoints
    smtp = Server("127.0.0.1", smtp_port, Security.TLS) if smtp_port else None
    return make_account(
        User.objects.create_user(owner),
        user.address,
        password=user.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=smtp or Server(e.host, e.submissions_port, Security.TLS),
    )


def wait_for(check: Callable[[], T], what: str, timeout: float = 30.0, log: str = "") -> T:
    """Polls `check` until it returns something true; fails with `what` (and a log) after."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} not within {timeout}s\n{log}"
        time.sleep(0.05)
    return found


def outgoing(pk: int) -> OutgoingMessage:
    return OutgoingMessage.objects.get(pk=pk)


def settled(pk: int, timeout: float = 30.0, log: str = "") -> OutgoingMessage:
    """The row once the worker is done with it: sent (its Sent copy stored), failed, unknown."""

    def done() -> OutgoingMessage | None:
        row = outgoing(pk)
        copy_done = row.state != "sent" or row.sent_copy_state not in ("pending", "appending")
        return row if row.state in SETTLED and copy_done else None

    try:
        return wait_for(done, f"outbox message {pk} settled", timeout, log)
    except AssertionError as exc:
        row = outgoing(pk)
        state = f"still {row.state}/{row.sent_copy_state}: {row.last_error}"
        raise AssertionError(f"{exc}\n{state}") from None


def message_id_of(raw: bytes) -> str:
    headers = email.message_from_bytes(raw, policy=email.policy.default)
    return str(headers["Message-ID"] or "").strip()


def copies(servers: MailServers, user: MailUser, message_id: str, folder: str = "INBOX") -> list:
    """The messages of `folder` with this Message-ID, once Postfix has handed everything on."""
    servers.wait_for_empty_queue(timeout=20)
    return [
        stored
        for stored in servers.messages(user.address, folder=folder)
        if message_id_of(stored.raw) == message_id
    ]


class SenderReplies:
    """Postfix's submission services check each sender in a table first: an address listed
    there gets the reply written beside it ("421 4.7.0 ..."), the others go on as before.
    For a private instance only: it rewrites its master.cf and reloads it."""

    def __init__(self, servers: MailServers) -> None:
        self.servers = servers
        self.table = servers.postfix.config_dir / "sender_replies"
        self._time = 0
        self.set({})
        e = servers.endpoints
        check = f"check_sender_access,hash:{self.table},permit_sasl_authenticated,reject"
        for port in (e.submission_port, e.submissions_port):
            servers.postfix.postconf(
                "-P", f"{e.host}:{port}/inet/smtpd_sender_restrictions={check}"
            )
        run(["postfix", "-c", str(servers.postfix.config_dir), "reload"], "reloading Postfix")

    def set(self, replies: dict[str, str]) -> None:
        """Postfix daemons notice the rebuilt table before their next client."""
        self.table.write_text("".join(f"{a}\t{r}\n" for a, r in replies.items()))
        config = str(self.servers.postfix.config_dir)
        run(["postmap", "-c", config, f"hash:{self.table}"], "postmap")
        # As tests/harness/postfix.py does for its mailbox table: a new whole-second mtime.
        self._time = max(int(time.time()), self._time + 1)
        os.utime(self.table.with_suffix(".db"), (self._time, self._time))

    def answer_to(self, user: MailUser) -> int:
        """The code Postfix answers now to MAIL FROM `user` (after a real AUTH); nothing sent."""
        e = self.servers.endpoints
        context = self.servers.ssl_context()
        with smtplib.SMTP_SSL(e.host, e.submissions_port, context=context, timeout=10) as client:
            client.login(user.login, user.password)
            code, _ = client.mail(user.address)
            if code != 421:  # after a 421 Postfix has hung up already
                client.rset()
            return code
