"""`manage.py reencrypt_secrets`: every stored secret re-encrypted under the newest key.

Run after putting a new key first in MAIL_ENCRYPTION_KEYS; then the old key can be removed.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import crypto
from accounts.models import MailAccount, OAuthGrant

SECRET_FIELDS = ("incoming_password_encrypted", "smtp_password_encrypted")
GRANT_FIELDS = ("refresh_token_encrypted", "access_token_encrypted")


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
            self._rotate_grant(account)
            rotated += 1
        self.stdout.write(f"Re-encrypted the secrets of {rotated} mail account(s).")

    def _rotate_grant(self, account: MailAccount) -> None:
        """The account's OAuth tokens, with a conditional UPDATE: a refresh that writes new
        tokens meanwhile wins (they are encrypted under the newest key already)."""
        for _ in range(3):
            stored = OAuthGrant.objects.filter(account=account).values(*GRANT_FIELDS).first()
            if stored is None:
                return
            try:
                changes = {f: crypto.rotate(v) if v else "" for f, v in stored.items()}
            except crypto.SecretUnreadable as exc:
                raise CommandError(f"account {account.pk} ({account.email}): {exc}") from None
            if OAuthGrant.objects.filter(account=account, **stored).update(**changes):
                return
