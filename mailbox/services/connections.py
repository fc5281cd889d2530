"""Signed-in connections to an account's incoming server, with its policy and trusted
certificate: the one place sync, POP3 download and action replay open them."""

from contextlib import AbstractContextManager

from accounts.models import MailAccount
from accounts.services.policy import network_policy
from mailbox.protocols import imap, pop3
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.pop3 import Pop3Client


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
