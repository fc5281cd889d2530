"""Where things are on the server at the moment an action is replayed.

The store already shows every change the person made; the server has only those replayed so
far. Actions replay in order, so for action X the server reflects everything before X and
nothing after it:
- a message's server position is the starting point (`from_folder`, `from_uid`) of the first
  move of it still waiting after X; with none, its location as stored;
- a folder's server name is its stored name with the renames still waiting after X undone
  (newest first; a renamed parent renames its subfolders too).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from mailbox.models import Folder, PendingAction
from mailbox.models.actions import ActionKind
from mailbox.services.actions.queue import WAITING


@dataclass(frozen=True)
class ServerPosition:
    folder_id: int | None
    uid: int | None  # None: not known (yet)


@dataclass
class Positions:
    folders: dict[int, Folder]
    moves: dict[int, list[PendingAction]] = field(default_factory=dict)  # by location, in order
    renames: list[PendingAction] = field(default_factory=list)  # in order

    @classmethod
    def load(cls, account_id: int, actions: Sequence[PendingAction]) -> "Positions":
        waiting = PendingAction.objects.filter(account_id=account_id, state__in=WAITING)
        location_ids = {action.location_id for action in actions if action.location_id}
        moves: dict[int, list[PendingAction]] = defaultdict(list)
        for move in waiting.filter(kind=ActionKind.MOVE, location_id__in=location_ids).order_by(
            "pk"
        ):
            moves[move.location_id].append(move)
        return cls(
            folders=Folder.objects.filter(account_id=account_id).in_bulk(),
            moves=moves,
            renames=list(waiting.filter(kind=ActionKind.RENAME_FOLDER).order_by("pk")),
        )

    def of_message(self, action: PendingAction) -> ServerPosition:
        """Where the message `action` works on is on the server now (not for moves: theirs is
        in their payload)."""
        location = action.location
        if location is None:
            return ServerPosition(None, None)
        later = [move for move in self.moves.get(location.pk, ()) if move.pk > action.pk]
        if later:
            return ServerPosition(later[0].payload["from_folder"], later[0].payload["from_uid"])
        return ServerPosition(location.folder_id, location.uid if location.uid > 0 else None)

    def folder_name(self, folder_id: int | None, action: PendingAction) -> str | None:
        """The server's name for a stored folder when `action` replays; None when it is gone."""
        folder = self.folders.get(folder_id) if folder_id is not None else None
        if folder is None:
            return None
        name = folder.name
        for rename in reversed(self.renames):
            if rename.pk <= action.pk:
                break
            new, old = rename.payload["new_name"], rename.payload["old_name"]
            if name == new or (folder.delimiter and name.startswith(new + folder.delimiter)):
                name = old + name[len(new) :]
        return name
