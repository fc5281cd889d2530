"""The log of local changes: PendingAction rows, at most one waiting per key, replayed on commit.

A key names what an action is about, not what it does: `flag:<location>:seen`,
`move:<location>`, `delete:<location>`, `create_folder:<folder>`. A second action under a
key that still waits is merged into that row: the newer payload wins (the person's latest
click is what the server must end up with), but the fields that say where things were before
the first change (ORIGIN_FIELDS) are kept from the older row, since they are what the replay
starts from and what a refusal puts back. So read → unread → read is one row that sets
\\Seen, and move to A → move to B is one row that moves to B.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from mailbox.models import PendingAction
from mailbox.models.actions import ActionKind, ActionState
from mailbox.services.actions.local import chunks

WAITING = (ActionState.PENDING, ActionState.RUNNING)
# Where the first of several merged changes started: the older row's values stay.
ORIGIN_FIELDS = ("previous", "from_folder", "from_uid")

Payload = dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One action to record; `payload=None` cancels the row waiting under `key`."""

    key: str
    payload: Payload | None
    location_id: int | None = None
    folder_id: int | None = None


def flag_key(location_id: int, flag: str) -> str:
    return f"flag:{location_id}:{flag}"


def move_key(location_id: int) -> str:
    return f"move:{location_id}"


def delete_key(location_id: int) -> str:
    return f"delete:{location_id}"


def folder_key(kind: ActionKind, folder_id: int) -> str:
    return f"{kind}:{folder_id}"


def waiting_rows(account_id: int, keys: Iterable[str]) -> dict[str, PendingAction]:
    """The rows still waiting (not yet claimed) under `keys`, locked until our commit so that
    the replay cannot claim one halfway through a merge."""
    found: dict[str, PendingAction] = {}
    for some in chunks(list(keys)):
        rows = PendingAction.objects.select_for_update().filter(
            account_id=account_id, state=ActionState.PENDING, dedupe_key__in=some
        )
        found.update((row.dedupe_key, row) for row in rows)
    return found


def merged(waiting: Payload, new: Payload) -> Payload:
    kept = {name: waiting[name] for name in ORIGIN_FIELDS if name in waiting}
    return {**new, **kept}


def record(account_id: int, kind: ActionKind, entries: Sequence[Entry]) -> None:
    """Appends, merges or cancels the entries' rows (inside the caller's transaction) and
    asks for a replay once it commits."""
    if not entries:
        return
    waiting = waiting_rows(account_id, [entry.key for entry in entries])
    fresh = []
    for entry in entries:
        row = waiting.get(entry.key)
        if row is None:
            if entry.payload is not None:
                fresh.append(_row(account_id, kind, entry))
        elif entry.payload is None:
            row.delete()
        else:
            _merge_into(row, entry.payload)
    _create(fresh)
    enqueue_replay(account_id)


def _row(account_id: int, kind: ActionKind, entry: Entry) -> PendingAction:
    return PendingAction(
        account_id=account_id,
        kind=kind,
        location_id=entry.location_id,
        folder_id=entry.folder_id,
        payload=entry.payload,
        dedupe_key=entry.key,
    )


def _merge_into(row: PendingAction, payload: Payload) -> None:
    row.payload = merged(row.payload, payload)
    row.save(update_fields=["payload"])


def _create(rows: list[PendingAction]) -> None:
    """Bulk insert; when a twin request inserted one of the keys first, merge into its row."""
    try:
        with transaction.atomic():
            PendingAction.objects.bulk_create(rows, batch_size=500)
        return
    except IntegrityError:
        pass
    for row in rows:
        row.pk = None
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            twin = waiting_rows(row.account_id, [row.dedupe_key]).get(row.dedupe_key)
            if twin is not None:
                _merge_into(twin, row.payload)


def enqueue_replay(account_id: int) -> None:
    """The replay task, once the rows it needs are committed (ids only). `robust`: with the
    broker down the change is still saved and shown, and beat's replay_due_actions sends it."""
    from mailbox.tasks.actions import replay_actions  # tasks import services: import late

    transaction.on_commit(lambda: replay_actions.delay(account_id), robust=True)
