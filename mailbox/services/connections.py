"""Signed-in connections to an account's servers, with its policy and trusted certificate: the
one place sync, POP3 download, action replay and the outbox open them.

An account with an OAuth grant signs in with an access token (accounts/services/oauth_tokens.py)
instead of its password; a token the server refuses is refreshed once and tried again, since
the server may know better than our expiry time (revoked early, clocks apart).
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import TypeVar

from accounts.models import MailAccount, OAuthGrant
from accounts.services.oauth_tokens import TokenUnavailable, access_token_for
from accounts.services.policy import network_policy
from mailbox.protocols import imap, pop3, smtp
from mailbox.protocols.errors import TokenRejected
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.pop3 import Pop3Client
from mailbox.protocols.smtp import SmtpClient
from mailbox.protocols.types import Credentials

Client = TypeVar("Client")
Opener = Callable[[Credentials], AbstractContextManager[Client]]


def imap_session(account: MailAccount) -> AbstractContextManager[ImapClient]:
    def opener(credentials: Credentials) -> AbstractContextManager[ImapClient]:
        return imap.session(
            account.incoming_server,
            credentials,
            network_policy(),
            account.incoming_trusted_fingerprint or None,
        )

    return _signed_in(account, account.incoming_username, account.incoming_credentials, opener)


def pop3_session(account: MailAccount) -> AbstractContextManager[Pop3Client]:
    def opener(credentials: Credentials) -> AbstractContextManager[Pop3Client]:
        return pop3.session(
            account.incoming_server,
            credentials,
            network_policy(),
            account.incoming_trusted_fingerprint or None,
        )

    return _signed_in(account, account.incoming_username, account.incoming_credentials, opener)


@contextmanager
def smtp_session(account: MailAccount) -> Iterator[SmtpClient]:
    """Also records the SIZE the server announces, which compose checks attachments against."""

    def opener(credentials: Credentials) -> AbstractContextManager[SmtpClient]:
        return smtp.session(
            account.smtp_server,
            credentials,
            network_policy(),
            account.smtp_trusted_fingerprint or None,
        )

    with _signed_in(account, account.smtp_username, account.smtp_credentials, opener) as client:
        record_size_limit(account, smtp.size_limit(client))
        yield client


@contextmanager
def _signed_in(
    account: MailAccount,
    username: str,
    password: Callable[[], Credentials],
    opener: Opener[Client],
) -> Iterator[Client]:
    if not OAuthGrant.objects.filter(account_id=account.pk).exists():
        with opener(password()) as client:
            yield client
        return
    with ExitStack() as stack:
        try:
            client = stack.enter_context(opener(_token_credentials(account, username)))
        except TokenRejected:
            renewed = _token_credentials(account, username, force=True)
            try:
                client = stack.enter_context(opener(renewed))
            except TokenRejected as exc:
                raise _refused_even_renewed(account) from exc
        yield client


def _refused_even_renewed(account: MailAccount) -> TokenUnavailable:
    """Not the password's kind of failure (a setting the person must fix, which fails
    outgoing mail at once): the provider or the server may be having a moment, so the work
    waits and is tried again, and the person sees why."""
    return TokenUnavailable(
        f"The mail server did not accept {account.email}'s sign-in, even renewed just now: "
        "trying again later. If this goes on, sign in with the provider again."
    )


def _token_credentials(account: MailAccount, username: str, *, force: bool = False) -> Credentials:
    return Credentials(username, "", oauth_token=access_token_for(account, force=force))


def record_size_limit(account: MailAccount, size_limit: int | None) -> None:
    """One UPDATE, and only when the server's SIZE changed (not once per message sent)."""
    if account.smtp_size_limit != size_limit:
        MailAccount.objects.filter(pk=account.pk).update(smtp_size_limit=size_limit)
        account.smtp_size_limit = size_limit
