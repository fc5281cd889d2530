"""From waiting actions to server commands: each action's server names and UID (positions.py),
and the run of actions at the head of the queue that one command can carry (a group)."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from mailbox.models import PendingAction
from mailbox.models.actions import ActionKind
from mailbox.services.actions.positions import Positions

MESSAGE_KINDS = (ActionKind.SET_FLAGS, ActionKind.MOVE, ActionKind.DELETE)
FOLDER_KINDS = (ActionKind.CREATE_FOLDER, ActionKind.RENAME_FOLDER, ActionKind.DELETE_FOLDER)
REPLAYED_KINDS = (*MESSAGE_KINDS, *FOLDER_KINDS)
GROUP_LIMIT = 1000  # actions per command (the protocol layer splits UID sets the same way)


class Blocked(Enum):
    NOTHING_TO_DO = "nothing"  # the message left the store (and the server) meanwhile
    NOT_ON_SERVER = "not-on-server"  # its folder or UID on the server is not known
    NO_TARGET = "no-target"  # the destination folder is gone


@dataclass(frozen=True)
class Step:
    action: PendingAction
    folder: str | None = None  # server name of the folder the command runs in
    uid: int | None = None  # the message's UID there
    target: str | None = None  # moves: server name of the destination

    @property
    def kind(self) -> ActionKind:
        return ActionKind(self.action.kind)

    @property
    def batch(self) -> tuple[object, ...]:
        """Steps with equal batches go to the server as one command."""
        payload = self.action.payload
        return (self.kind, self.folder, self.target, payload.get("flag"), payload.get("value"))

    @property
    def blocked(self) -> Blocked | None:
        if self.kind in FOLDER_KINDS:
            return None
        if self.kind is ActionKind.MOVE:
            # The location may be gone (a later change dropped it): the server still moves.
            if self.target is None:
                return Blocked.NO_TARGET
        elif self.action.location_id is None:
            return Blocked.NOTHING_TO_DO
        return Blocked.NOT_ON_SERVER if self.folder is None or self.uid is None else None


def step_for(action: PendingAction, positions: Positions) -> Step:
    if action.kind == ActionKind.MOVE:
        payload = action.payload
        return Step(
            action,
            folder=positions.folder_name(payload["from_folder"], action),
            uid=payload["from_uid"],
            target=positions.folder_name(payload["to_folder"], action),
        )
    if action.kind in MESSAGE_KINDS:
        where = positions.of_message(action)
        return Step(action, folder=positions.folder_name(where.folder_id, action), uid=where.uid)
    return Step(action)


def head_group(actions: Sequence[PendingAction], positions: Positions) -> list[Step]:
    """The first action's step, with the steps right after it that share its command."""
    first = step_for(actions[0], positions)
    group = [first]
    if first.blocked is not None or first.kind in FOLDER_KINDS:
        return group
    for action in actions[1 : GROUP_LIMIT + 1]:
        step = step_for(action, positions)
        if step.blocked is not None or step.batch != first.batch:
            break
        group.append(step)
    return group[:GROUP_LIMIT]
