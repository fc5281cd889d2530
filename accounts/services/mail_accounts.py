"""Creating, changing and removing a person's mail accounts and identities."""

from dataclasses import dataclass

from django.db import transaction
from django.http import Http404

from accounts.models import Identity, MailAccount, User
from mailbox.protocols.types import Credentials, Protocol, Server


@dataclass(frozen=True)
class AccountSettings:
    """Everything about an account but its passwords (those travel as Credentials)."""

    email: str
    display_name: str
    incoming_protocol: Protocol
    incoming: Server
    incoming_username: str
    smtp: Server
    smtp_username: str
    incoming_trusted_fingerprint: str = ""
    smtp_trusted_fingerprint: str = ""
    provider: str = ""

    @classmethod
    def of(cls, account: MailAccount) -> "AccountSettings":
        return cls(
            email=account.email,
            display_name=account.display_name,
            incoming_protocol=Protocol(account.incoming_protocol),
            incoming=account.incoming_server,
            incoming_username=account.incoming_username,
            smtp=account.smtp_server,
            smtp_username=account.smtp_username,
            incoming_trusted_fingerprint=account.incoming_trusted_fingerprint,
            smtp_trusted_fingerprint=account.smtp_trusted_fingerprint,
            provider=account.provider,
        )


def check_account_for_user(user: User, account_id: int) -> MailAccount:
    """The account, if it is this user's; 404 otherwise (whether or not it exists)."""
    try:
        return MailAccount.objects.get(pk=account_id, user=user)
    except MailAccount.DoesNotExist:
        raise Http404("No such mail account.") from None


def check_identity_for_user(user: User, identity_id: int) -> Identity:
    try:
        return Identity.objects.select_related("account").get(pk=identity_id, account__user=user)
    except Identity.DoesNotExist:
        raise Http404("No such identity.") from None


def _apply(account: MailAccount, values: AccountSettings) -> None:
    account.email = values.email
    account.display_name = values.display_name
    account.incoming_protocol = values.incoming_protocol.value
    account.incoming_host = values.incoming.host
    account.incoming_port = values.incoming.port
    account.incoming_security = values.incoming.security.value
    account.incoming_username = values.incoming_username
    account.incoming_trusted_fingerprint = values.incoming_trusted_fingerprint
    account.smtp_host = values.smtp.host
    account.smtp_port = values.smtp.port
    account.smtp_security = values.smtp.security.value
    account.smtp_username = values.smtp_username
    account.smtp_trusted_fingerprint = values.smtp_trusted_fingerprint
    account.provider = values.provider


@transaction.atomic
def do_create_account(
    user: User, values: AccountSettings, incoming: Credentials | None, smtp: Credentials | None
) -> MailAccount:
    """Saves a new account with a first identity (its own address and name). Credentials of
    None store no password: the account signs in with OAuth (accounts/models_oauth.py)."""
    account = MailAccount(user=user)
    _apply(account, values)
    if incoming is not None:
        account.set_incoming_password(incoming.password)
    if smtp is not None:
        account.set_smtp_password(smtp.password)
    account.save()
    Identity.objects.create(
        account=account, name=values.display_name, email=values.email, is_default=True
    )
    return account


@transaction.atomic
def do_update_account(
    account: MailAccount,
    values: AccountSettings,
    incoming_password: str | None = None,
    smtp_password: str | None = None,
) -> MailAccount:
    """Saves changed settings; a password of None keeps the stored one."""
    _apply(account, values)
    if incoming_password:
        account.set_incoming_password(incoming_password)
    if smtp_password:
        account.set_smtp_password(smtp_password)
    account.save()
    return account


def do_delete_account(account: MailAccount) -> None:
    """Removes the account, its identities and everything stored for it: rows by cascade, the
    raw message files once the transaction has committed (accounts/signals.py)."""
    account.delete()
