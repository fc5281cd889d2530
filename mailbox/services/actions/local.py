"""Writes to the local store that several actions share: counts, placeholders, forgetting."""

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from django.db import transaction

from mailbox import storage
from mailbox.models import Folder, Message, MessageLocation

CHUNK = 2000  # ids per query: SQLite caps the number of parameters
T = TypeVar("T")


def placeholder_uid(location_id: int) -> int:
    """The UID of a location moved here but not yet on the server (or whose new UID is not
    known yet): negative, so never a real UID (those start at 1) nor the 0 of local folders,
    outside the (folder, uid > 0) constraint, and unique per location."""
    return -location_id


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def locked(location_ids: Iterable[int]) -> list[MessageLocation]:
    """The locations, fresh and locked until our commit, in id order."""
    rows: list[MessageLocation] = []
    for ids in chunks(sorted(set(location_ids))):
        rows += (
            MessageLocation.objects.select_for_update(of=("self",))
            .select_related("folder")
            .filter(pk__in=ids)
            .order_by("pk")
        )
    return rows


def refresh_counts(folder_ids: Iterable[int]) -> None:
    """What the folder list shows; locations marked deleted are already hidden."""
    for folder_id in set(folder_ids):
        shown = MessageLocation.objects.filter(folder_id=folder_id, is_deleted=False)
        Folder.objects.filter(pk=folder_id).update(
            message_count=shown.count(), unread_count=shown.filter(is_seen=False).count()
        )


def forget(location_ids: Iterable[int]) -> None:
    """Removes locations; content that is then nowhere else goes too, its file after commit."""
    with transaction.atomic():
        for ids in chunks(sorted(set(location_ids))):
            _forget(ids)


def _forget(location_ids: Sequence[int]) -> None:
    locations = MessageLocation.objects.filter(pk__in=location_ids)
    message_ids = set(locations.values_list("message_id", flat=True))
    folder_ids = set(locations.values_list("folder_id", flat=True))
    locations.delete()
    orphans = Message.objects.filter(pk__in=message_ids, locations__isnull=True)
    paths = [path for path in orphans.values_list("raw_path", flat=True) if path]
    orphans.delete()
    refresh_counts(folder_ids)
    transaction.on_commit(lambda: [storage.remove(path) for path in paths])


def fetch_again(folder_id: int | None) -> None:
    """The next sync of this folder looks for every UID it does not hold (not just the new
    ones): how a message whose location we had to drop comes back from the server."""
    if folder_id is not None:
        Folder.objects.filter(pk=folder_id).update(uidnext=None)
