"""An account's raw message files go with its row, however the row goes: removed by its
owner, by an admin in the Django admin, or with its user (a cascade). Files are removed after
the commit, so a rolled-back removal keeps them."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import MailAccount
from mailbox import storage


@receiver(post_delete, sender=MailAccount, dispatch_uid="remove_account_files")
def remove_account_files(sender: type, instance: MailAccount, **kwargs: Any) -> None:
    account_id = instance.pk
    transaction.on_commit(lambda: storage.remove_account(account_id))
