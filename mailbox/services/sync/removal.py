"""Locations that left the server, and content no location refers to any more."""

from django.db import transaction

from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation
from mailbox.services.sync.uids import locations_of_uids


def forget_locations(folder: Folder, uids: set[int] | None) -> int:
    """Removes the folder's locations for `uids` (all of them for None); content that is then
    nowhere on the server goes too, its raw file after the commit. Returns how many."""
    if uids is not None and not uids:
        return 0
    locations = (
        MessageLocation.objects.filter(folder=folder)
        if uids is None
        else locations_of_uids(folder, uids)
    )
    with transaction.atomic():
        message_ids = set(locations.values_list("message_id", flat=True))
        removed, _ = locations.delete()
        orphans = Message.objects.filter(pk__in=message_ids, locations__isnull=True)
        paths = [path for path in orphans.values_list("raw_path", flat=True) if path]
        orphans.delete()
        transaction.on_commit(lambda: [storage.remove(path) for path in paths])
    return removed
