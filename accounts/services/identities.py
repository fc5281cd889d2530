"""Sending identities: one default per account, and never none."""

from django.db import transaction

from accounts.models import Identity


@transaction.atomic
def do_save_identity(identity: Identity) -> Identity:
    identity.save()
    siblings = Identity.objects.filter(account_id=identity.account_id).exclude(pk=identity.pk)
    if identity.is_default:
        siblings.filter(is_default=True).update(is_default=False)
    elif not siblings.filter(is_default=True).exists():
        identity.is_default = True
        identity.save(update_fields=["is_default"])
    return identity


@transaction.atomic
def do_delete_identity(identity: Identity) -> bool:
    """Removes the identity unless it is the account's last; the next one becomes default."""
    siblings = Identity.objects.filter(account_id=identity.account_id).exclude(pk=identity.pk)
    if not siblings.exists():
        return False
    identity.delete()
    if identity.is_default:
        successor = siblings.order_by("pk").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])
    return True
