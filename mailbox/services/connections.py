"""Signed-in connections to an account's servers, with its policy and trusted certificate: the
one place sync, POP3 download, action replay and the outbox open them."""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from accounts.models import MailAccount
from accounts.services.policy import network_policy
from mailbox.protocols import imap, pop3, smtp
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.pop3 import Pop3Client
from mailbox.protocols.smtp import SmtpClient


def imap_session(account: MailAccount) -> AbstractContextManager[ImapClient]:
    return imap.session(
        account.incoming_server,
        account.incoming_credentials(),
        network_policy(),
        account.incoming_trusted_fingerprint or None,
    )


def pop3_session(account: MailAccount) -> AbstractContextManager[Pop3Client]:
    return pop3.session(
        account.incoming_server,
        account.incoming_credentials(),
        network_policy(),
        account.incoming_trusted_fingerprint or None,
    )


@contextmanager
def smtp_session(account: MailAccount) -> Iterator[SmtpClient]:
    """Also records the SIZE the server announces, which compose checks attachments against."""
    with smtp.session(
        account.smtp_server,
        account.smtp_credentials(),
        network_policy(),
        account.smtp_trusted_fingerprint or None,
    ) as client:
        record_size_limit(account, smtp.size_limit(client))
        yield client


def record_size_limit(account: MailAccount, size_limit: int | None) -> None:
    """One UPDATE, and only when the server's SIZE changed (not once per message sent)."""
    if account.smtp_size_limit != size_limit:
        MailAccount.objects.filter(pk=account.pk).update(smtp_size_limit=size_limit)
        account.smtp_size_limit = size_limit
