"""Server flags onto stored locations, never over a change that is still waiting to be sent."""

from collections.abc import Iterable, Mapping

from django.db import transaction

from mailbox.models import Folder, MessageLocation, PendingAction
from mailbox.models.actions import ActionState
from mailbox.services.sync.uids import locations_of_uids

SYSTEM_FLAGS = {
    "\\seen": "is_seen",
    "\\flagged": "is_flagged",
    "\\answered": "is_answered",
    "\\draft": "is_draft",
    "\\deleted": "is_deleted",
}
FLAG_FIELDS = (*SYSTEM_FLAGS.values(), "keywords")


def location_flags(flags: Iterable[str]) -> dict[str, object]:
    values: dict[str, object] = {field: False for field in SYSTEM_FLAGS.values()}
    keywords = []
    for flag in flags:
        field = SYSTEM_FLAGS.get(flag.lower())
        if field:
            values[field] = True
        elif not flag.startswith("\\"):
            keywords.append(flag)
    values["keywords"] = sorted(keywords)
    return values


def locations_with_waiting_changes(folder: Folder) -> set[int]:
    return set(
        PendingAction.objects.filter(
            location__folder=folder, state__in=[ActionState.PENDING, ActionState.RUNNING]
        ).values_list("location_id", flat=True)
    )


def apply_flags(folder: Folder, flags_by_uid: Mapping[int, Iterable[str]]) -> int:
    """Updates the locations whose flags differ; returns how many changed."""
    if not flags_by_uid:
        return 0
    with transaction.atomic():
        waiting = locations_with_waiting_changes(folder)
        changed = []
        for location in locations_of_uids(folder, list(flags_by_uid)):
            if location.pk in waiting:
                continue  # our own change wins until the server has it
            values = location_flags(flags_by_uid[location.uid])
            if any(getattr(location, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(location, field, value)
                changed.append(location)
        MessageLocation.objects.bulk_update(changed, FLAG_FIELDS, batch_size=500)
    return len(changed)
