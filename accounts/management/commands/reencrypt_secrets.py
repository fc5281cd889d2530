"""`manage.py reencrypt_secrets`: every stored secret re-encrypted under the newest key.

Run after putting a new key first in MAIL_ENCRYPTION_KEYS; then the old key can be removed.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import crypto
from accounts.models import MailAccount

SECRET_FIELDS = ("incoming_password_encrypted", "smtp_password_encrypted")


class Command(BaseCommand):
    help = (
        "Re-encrypts every stored mail password and token under the first MAIL_ENCRYPTION_KEYS key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        for account_id in MailAccount.objects.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                account = MailAccount.objects.select_for_update().get(pk=account_id)
                try:
                    for field in SECRET_FIELDS:
                        if getattr(account, field):
                            setattr(account, field, crypto.rotate(getattr(account, field)))
                except crypto.SecretUnreadable as exc:
                    raise CommandError(f"account {account.pk} ({account.email}): {exc}") from None
                account.save(update_fields=SECRET_FIELDS)
                rotated += 1
        self.stdout.write(f"Re-encrypted the secrets of {rotated} mail account(s).")
