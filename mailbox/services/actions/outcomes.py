"""The replay's results in the store, each in one short transaction: done, refused (the local
change put back, the person told why), or postponed (tried again later, nothing lost)."""

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mailbox.models import Folder, MessageLocation, PendingAction
from mailbox.models.actions import ActionKind, ActionState
from mailbox.services.actions.folders import rename_locally
from mailbox.services.actions.local import fetch_again, forget, locked, refresh_counts
from mailbox.services.actions.queue import WAITING

RETRY_BASE_SECONDS = 5.0
ACCOUNT_PROBLEM_CAP_SECONDS = 6 * 60 * 60
EARLIER_RENAME_FAILED = "Renaming the folder did not work: an earlier rename of it failed."


def finish(actions: Sequence[PendingAction]) -> None:
    PendingAction.objects.filter(pk__in=[action.pk for action in actions]).update(
        state=ActionState.DONE, error="", next_attempt_at=None
    )


@transaction.atomic
def finish_deletes(actions: Sequence[PendingAction]) -> None:
    forget(action.location_id for action in actions if action.location_id)
    finish(actions)


@transaction.atomic
def finish_move(action: PendingAction, uid: int | None) -> None:
    """The message is in the target folder now, under `uid` (None: not known)."""
    _settle(action, action.payload["to_folder"], uid)
    finish([action])


@transaction.atomic
def fail(actions: Sequence[PendingAction], text: str) -> None:
    for action in actions:
        PUT_BACK[ActionKind(action.kind)](action)
    PendingAction.objects.filter(pk__in=[action.pk for action in actions]).update(
        state=ActionState.FAILED, error=text, next_attempt_at=None
    )


def postpone(action: PendingAction, text: str, *, account_problem: bool = False) -> float:
    """Tries `action` (and so everything after it) again later; returns in how many seconds.
    Connection trouble is retried at least once a poll interval; a problem only the person
    can fix (a wrong password, an untrusted certificate) backs off for hours, as the sync
    does, so that the server never sees a stream of failed sign-ins."""
    attempts = action.attempts + 1
    cap = ACCOUNT_PROBLEM_CAP_SECONDS if account_problem else settings.MAIL_SYNC_INTERVAL_SECONDS
    delay = min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), max(float(cap), 1.0))
    PendingAction.objects.filter(pk=action.pk).update(
        attempts=attempts,
        error=text,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
    )
    return delay


def _settle(action: PendingAction, folder_id: int, uid: int | None) -> None:
    """After a move finished or was refused, its message is at (folder_id, uid) on the
    server. A later move of it starts from there; otherwise the location goes there."""
    later = _later_move(action)
    if later is not None and later.payload["to_folder"] != folder_id:
        later.payload = {**later.payload, "from_folder": folder_id, "from_uid": uid}
        later.save(update_fields=["payload"])
        return
    if later is not None:  # it would move the message where it is already
        finish([later])
    location = next(iter(locked([action.location_id] if action.location_id else [])), None)
    if location is None:
        fetch_again(folder_id)  # dropped meanwhile: let the sync find it where it is
    elif uid is None or _taken(folder_id, uid, location.pk) or not _exists(folder_id):
        forget([location.pk])
        fetch_again(folder_id)
    else:
        old_folder = location.folder_id
        location.folder_id, location.uid = folder_id, uid
        location.save(update_fields=["folder", "uid"])
        refresh_counts([old_folder, folder_id])


def _later_move(action: PendingAction) -> PendingAction | None:
    if action.location_id is None:
        return None
    return (
        PendingAction.objects.select_for_update()
        .filter(
            kind=ActionKind.MOVE,
            location_id=action.location_id,
            state__in=WAITING,
            pk__gt=action.pk,
        )
        .order_by("pk")
        .first()
    )


def _taken(folder_id: int, uid: int, location_id: int) -> bool:
    twins = MessageLocation.objects.filter(folder_id=folder_id, uid=uid).exclude(pk=location_id)
    return twins.exists()


def _exists(folder_id: int) -> bool:
    return Folder.objects.filter(pk=folder_id).exists()


# Putting a refused change back ------------------------------------------------------------


def _unflag(action: PendingAction) -> None:
    newer = PendingAction.objects.filter(
        account_id=action.account_id, dedupe_key=action.dedupe_key, state=ActionState.PENDING
    ).exclude(pk=action.pk)
    if action.location_id is None or newer.exists():
        return  # gone, or changed again since: the newer change stands
    field = {"seen": "is_seen", "flagged": "is_flagged"}[action.payload["flag"]]
    MessageLocation.objects.filter(pk=action.location_id).update(
        **{field: action.payload["previous"]}
    )
    _refresh_location_folder(action.location_id)


def _unmove(action: PendingAction) -> None:
    _settle(action, action.payload["from_folder"], action.payload["from_uid"])


def _undelete(action: PendingAction) -> None:
    MessageLocation.objects.filter(pk=action.location_id).update(is_deleted=False)
    _refresh_location_folder(action.location_id)


def _uncreate(action: PendingAction) -> None:
    folder = Folder.objects.filter(pk=action.folder_id).first()
    if folder is not None:
        forget(folder.locations.values_list("pk", flat=True))
        folder.delete()


def _unrename(action: PendingAction) -> None:
    """The folder gets its name back; renames of it queued after this one cannot work now."""
    later = PendingAction.objects.filter(
        kind=ActionKind.RENAME_FOLDER,
        folder_id=action.folder_id,
        state__in=WAITING,
        pk__gt=action.pk,
    )
    later.update(state=ActionState.FAILED, error=EARLIER_RENAME_FAILED)
    folder = Folder.objects.filter(pk=action.folder_id).first()
    old_name = action.payload["old_name"]
    taken = Folder.objects.filter(account_id=action.account_id, name=old_name)
    if folder is not None and not taken.exists():
        rename_locally(folder, old_name)


def _undelete_folder(action: PendingAction) -> None:
    """Back as a folder not synced yet: the next sync fills it from the server."""
    payload = action.payload
    if Folder.objects.filter(account_id=action.account_id, name=payload["name"]).exists():
        return
    Folder.objects.create(
        account_id=action.account_id,
        name=payload["name"],
        delimiter=payload["delimiter"],
        parent=Folder.objects.filter(pk=payload["parent"]).first() if payload["parent"] else None,
    )


def _refresh_location_folder(location_id: int | None) -> None:
    refresh_counts(
        MessageLocation.objects.filter(pk=location_id).values_list("folder_id", flat=True)
    )


PUT_BACK = {
    ActionKind.SET_FLAGS: _unflag,
    ActionKind.MOVE: _unmove,
    ActionKind.DELETE: _undelete,
    ActionKind.CREATE_FOLDER: _uncreate,
    ActionKind.RENAME_FOLDER: _unrename,
    ActionKind.DELETE_FOLDER: _undelete_folder,
}
