"""A folder's locations looked up by server UID, the way the database can use its index.

The (folder, uid) index is partial (uid > 0: a location waiting for its UID has a
placeholder below zero), and SQLite uses a partial index only when the query says its
condition. Given just `uid IN (...)`, it took the folder's other index and read every
location of the folder for each batch: a first sync grew quadratic with the folder.
"""

from collections.abc import Collection

from django.db.models import QuerySet

from mailbox.models import Folder, MessageLocation


def locations_of_uids(folder: Folder, uids: Collection[int]) -> QuerySet[MessageLocation]:
    """The folder's locations of these UIDs (server UIDs: all above zero)."""
    if not uids:
        return MessageLocation.objects.none()
    span = (min(uids), max(uids))
    return MessageLocation.objects.filter(
        folder=folder, uid__gt=0, uid__range=span, uid__in=list(uids)
    )
