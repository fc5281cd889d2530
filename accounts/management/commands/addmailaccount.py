"""`manage.py addmailaccount USERNAME ADDRESS`: add a mail account from a script.

The password is read from standard input (never from the command line, where `ps` and the
shell history would show it). Servers not given as options are discovered; the connection
is tested for real before anything is saved.
"""

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models_mail import DEFAULT_PORTS
from accounts.services.connection import run_test
from accounts.services.discovery import find_settings
from accounts.services.mail_accounts import AccountSettings, do_create_account
from accounts.validation import normalise_address
from mailbox.protocols.types import Credentials, Protocol, Security, Server

SECURITY_CHOICES = [choice.value for choice in Security]


class Command(BaseCommand):
    help = "Adds a mail account for USERNAME; reads the password from standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("address")
        parser.add_argument("--name", default="", help="Display name.")
        parser.add_argument("--protocol", choices=["imap", "pop3"])
        parser.add_argument("--incoming-host")
        parser.add_argument("--incoming-port", type=int)
        parser.add_argument("--incoming-security", choices=SECURITY_CHOICES)
        parser.add_argument("--smtp-host")
        parser.add_argument("--smtp-port", type=int)
        parser.add_argument("--smtp-security", choices=SECURITY_CHOICES)

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["username"])
        address = self._address(options["address"])
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("Give the password on standard input.")
        values = self._settings(address, options)
        report = run_test(
            values,
            Credentials(values.incoming_username, password),
            Credentials(values.smtp_username, password),
        )
        if not report.ok:
            raise CommandError(" ".join(problem.message for problem in report.problems))
        credentials = Credentials(address, password)
        account = do_create_account(user, values, credentials, credentials)
        self.stdout.write(str(account.pk))

    def _user(self, username: str) -> Any:
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None

    def _address(self, address: str) -> str:
        try:
            return normalise_address(address)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None

    def _settings(self, address: str, options: dict[str, Any]) -> AccountSettings:
        found = None
        if not (options["incoming_host"] and options["smtp_host"]):
            found = find_settings(address)
            if found is None:
                raise CommandError(
                    f"No mail settings found for {address}: give --incoming-host and --smtp-host."
                )
        protocol = Protocol(options["protocol"] or (found.protocol if found else Protocol.IMAP))
        return AccountSettings(
            email=address,
            display_name=options["name"],
            incoming_protocol=protocol,
            incoming=_server(
                protocol,
                options["incoming_host"],
                options["incoming_port"],
                options["incoming_security"],
                found.incoming if found else None,
                Security.TLS,
            ),
            incoming_username=found.username if found else address,
            smtp=_server(
                Protocol.SMTP,
                options["smtp_host"],
                options["smtp_port"],
                options["smtp_security"],
                found.outgoing if found else None,
                Security.STARTTLS,
            ),
            smtp_username=found.outgoing_username if found else address,
            provider=(found.provider or "") if found else "",
        )


def _server(
    protocol: Protocol,
    host: str | None,
    port: int | None,
    security: str | None,
    found: Server | None,
    default_security: Security,
) -> Server:
    """Options win; what discovery found fills the gaps; then the usual port for the security."""
    chosen_security = Security(security or (found.security if found else default_security))
    if not port and found and found.security == chosen_security:
        port = found.port
    return Server(
        host or (found.host if found else ""),
        port or DEFAULT_PORTS[(protocol, chosen_security)],
        chosen_security,
    )
