"""`manage.py syncmail [ADDRESS ...]`: one sync of those accounts (all enabled ones when none
is named), in the foreground, through the same service the workers use.

Prints a line per folder as it goes, then one JSON line per account:
{"account": ADDRESS, "folders": N, "messages": N, "new": N, "seconds": S}.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import MailAccount
from mailbox.services.sync import AccountBusy, SyncReport, sync_account


class Command(BaseCommand):
    help = "Syncs mail accounts now (all enabled accounts when no address is given)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addresses", nargs="*", metavar="ADDRESS")

    def handle(self, *args: Any, addresses: list[str], **options: Any) -> None:
        accounts = MailAccount.objects.filter(is_enabled=True).order_by("pk")
        if addresses:
            accounts = MailAccount.objects.filter(email__in=addresses).order_by("pk")
            missing = set(addresses) - set(accounts.values_list("email", flat=True))
            if missing:
                raise CommandError(f"No mail account for {', '.join(sorted(missing))}.")
        failed = False
        for account in accounts:
            try:
                report = sync_account(account.pk, owner=f"syncmail:{account.pk}")
            except AccountBusy:
                self.stderr.write(f"{account.email}: another worker is syncing it right now.")
                failed = True
                continue
            self._progress(report)
            self.stdout.write(json.dumps(report.as_json()))
            failed = failed or bool(report.error)
        if failed:
            raise CommandError("Some accounts could not be synced (see above).")

    def _progress(self, report: SyncReport) -> None:
        for name, folder in report.folder_reports.items():
            self.stderr.write(
                f"{report.account} {name}: {folder.new} new, {folder.flags_changed} flags "
                f"changed, {folder.removed} removed, {folder.bodies} bodies"
            )
        if report.error:
            self.stderr.write(f"{report.account}: {report.error}")
