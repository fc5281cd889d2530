"""Two people with a mail account each, for tests that check access both ways."""

from accounts.models import MailAccount, User
from accounts.services.mail_accounts import AccountSettings, do_create_account
from mailbox.protocols.types import Credentials, Protocol, Security, Server


def make_account(
    user: User,
    email: str,
    password: str = "mail-password",
    incoming: Server | None = None,
    smtp: Server | None = None,
    protocol: Protocol = Protocol.IMAP,
) -> MailAccount:
    values = AccountSettings(
        email=email,
        display_name=email.split("@")[0].title(),
        incoming_protocol=protocol,
        incoming=incoming or Server("imap.example.test", 993, Security.TLS),
        incoming_username=email,
        smtp=smtp or Server("smtp.example.test", 587, Security.STARTTLS),
        smtp_username=email,
    )
    credentials = Credentials(email, password)
    return do_create_account(user, values, credentials, credentials)
