"""One group of actions told to the server: protocol calls in, plain values out. No database
access here: replay.py gathers what is needed and outcomes.py writes the results.

Every function is safe to run again after a crash halfway (the replay re-runs an action it had
claimed but not finished): STORE sets a flag that may be set already; a message that is no
longer in the source folder of a move is looked for in the target; a folder that already has
its new name (or is gone already) was renamed (deleted) by the run that crashed.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from mailbox.protocols import mime
from mailbox.protocols.errors import ActionRefused, FolderMissing
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_actions import FLAGGED, SEEN, delete_permanently, move, set_flags
from mailbox.protocols.imap_fetch import HeaderInfo, fetch_headers
from mailbox.protocols.imap_folders import (
    create_folder,
    delete_folder,
    list_folders,
    rename_folder,
    select,
)
from mailbox.protocols.imap_sync import flags_of, uids_in

IMAP_FLAGS = {"seen": SEEN, "flagged": FLAGGED}
# A moved message gets one of the target's highest UIDs: look among the newest unknown ones.
FIND_LIMIT = 500
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Fingerprint:
    """What identifies a message among a folder's headers without downloading it."""

    message_id: str
    size: int
    gmail_id: int | None = None


@dataclass(frozen=True)
class Moved:
    uid: int | None  # its UID in the target; None when the server did not say and it was not found
    missing: bool = False  # neither in the source any more nor found in the target


def store_flag(client: ImapClient, folder: str, uids: list[int], flag: str, value: bool) -> None:
    select(client, folder)
    names = [IMAP_FLAGS[flag]]
    set_flags(client, uids, add=names if value else (), remove=() if value else names)


def expunge(client: ImapClient, folder: str, uids: list[int]) -> None:
    select(client, folder)
    delete_permanently(client, uids)


def move_messages(
    client: ImapClient,
    source: str,
    target: str,
    wanted: Mapping[int, Fingerprint],
    known_in_target: set[int],
) -> dict[int, Moved]:
    """Moves the messages (by source UID); returns where each went, by source UID."""
    select(client, source)
    present = sorted(flags_of(client, list(wanted)))
    moved = move(client, present, target) if present else {}
    results = {uid: Moved(moved.get(uid)) for uid in present}
    unknown = {uid: wanted[uid] for uid in wanted if results.get(uid, Moved(None)).uid is None}
    if unknown:
        found = find_in_folder(client, target, unknown, known_in_target)
        for uid in unknown:
            gone = uid not in results and uid not in found
            results[uid] = Moved(found.get(uid), missing=gone)
    return results


def find_in_folder(
    client: ImapClient, folder: str, wanted: Mapping[K, Fingerprint], known: set[int]
) -> dict[K, int]:
    """UIDs of the wanted messages among the folder's newest UIDs we do not know yet."""
    select(client, folder)
    candidates = [uid for uid in uids_in(client) if uid not in known][-FIND_LIMIT:]
    by_fingerprint = {fingerprint: key for key, fingerprint in wanted.items()}
    found: dict[K, int] = {}
    for batch in fetch_headers(client, candidates):
        for info in batch:
            key = by_fingerprint.get(fingerprint_of(info))
            if key is not None:
                found.setdefault(key, info.uid)
    return found


def fingerprint_of(info: HeaderInfo) -> Fingerprint:
    message_id = mime.parse_message(info.headers + b"\r\n").message_id or ""
    return Fingerprint(message_id[:998], info.size, info.gmail_message_id)


def create(client: ImapClient, name: str) -> None:
    try:
        create_folder(client, name)
    except ActionRefused:
        if name not in _names(client):
            raise


def rename(client: ImapClient, old: str, new: str) -> None:
    try:
        rename_folder(client, old, new)
    except (ActionRefused, FolderMissing):
        names = _names(client)
        if old in names or new not in names:
            raise


def delete(client: ImapClient, name: str) -> None:
    try:
        delete_folder(client, name)
    except FolderMissing:
        return
    except ActionRefused:
        if name in _names(client):
            raise


def _names(client: ImapClient) -> set[str]:
    return {folder.name for folder in list_folders(client)}
