"""Changes made here, sent to the server: flags, move, delete, append, whole-folder actions.

`set_flags`, `move` and `delete_permanently` work on the folder `imap_folders.select()`
selected; `append`, `mark_all_read` and `empty_folder` name their folder.

`set_flags(..., unchanged_since=m)` is CONDSTORE's conditional STORE (RFC 7162): a message
changed elsewhere after `m` is left alone and reported in `failed`, so a flag set in another
mail program is never overwritten by an older local change.

Expunging: with UIDPLUS, `UID EXPUNGE` removes exactly our messages. Without it a plain
EXPUNGE would also remove whatever another mail program marked \\Deleted, so we expunge only
when no other message carries \\Deleted, and otherwise leave ours marked for the next one.
Moving without MOVE is COPY, then that delete.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from imapclient.response_parser import parse_fetch_response

from mailbox.protocols.errors import ActionRefused
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_calls import (
    batches,
    replies,
    take_response,
    tokens,
    uid_command,
    uid_set,
    uid_set_members,
)
from mailbox.protocols.imap_folders import select
from mailbox.protocols.imap_sync import uids_in

SEEN, FLAGGED, ANSWERED, DRAFT, DELETED = (
    "\\Seen",
    "\\Flagged",
    "\\Answered",
    "\\Draft",
    "\\Deleted",
)
STORE_BATCH = 1000
_NOT_IN_FLAGS = frozenset('(){ %*"]\\')  # atom-specials (RFC 3501 9); "\\" only as the first


@dataclass(frozen=True)
class FlagUpdate:
    failed: tuple[int, ...]  # changed elsewhere after `unchanged_since`: left untouched
    modseqs: dict[int, int] = field(default_factory=dict)  # new MODSEQs (CONDSTORE servers)


def set_flags(
    client: ImapClient,
    uids: Iterable[int],
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    *,
    unchanged_since: int | None = None,
) -> FlagUpdate:
    """Adds and removes flags (\\Seen, \\Flagged, ..., keywords) on messages of the folder."""
    check_flags([*add, *remove])
    if unchanged_since is not None and not client.has_capability("CONDSTORE"):
        raise ActionRefused("UID STORE (UNCHANGEDSINCE)", "the server does not support CONDSTORE")
    failed: set[int] = set()
    modseqs: dict[int, int] = {}
    for chunk in batches(sorted(set(uids)), STORE_BATCH):
        pending, since = list(chunk), unchanged_since
        for sign, flags in (("+", add), ("-", remove)):
            if not flags or not pending:
                continue
            refused, changed = _store(client, pending, sign, flags, since)
            failed |= refused
            modseqs.update(changed)
            pending = [uid for uid in pending if uid not in refused]
            if since is not None:  # our own first STORE raised their MODSEQs past `since`
                since = max([since, *changed.values()])
    return FlagUpdate(failed=tuple(sorted(failed)), modseqs=modseqs)


def check_flags(flags: Iterable[str]) -> None:
    """Flags travel as atoms: refuse anything that would change the command's meaning."""
    for flag in flags:
        name = flag.removeprefix("\\")
        if not name or not name.isascii() or not name.isprintable() or _NOT_IN_FLAGS & set(name):
            raise ValueError(f"not an IMAP flag: {flag!r}")


def _store(
    client: ImapClient, uids: Sequence[int], sign: str, flags: Sequence[str], since: int | None
) -> tuple[set[int], dict[int, int]]:
    """One UID STORE; returns (UIDs that failed UNCHANGEDSINCE, new MODSEQ by UID)."""
    take_response(client, "MODIFIED")  # a stale code of an earlier command is not ours
    args = [uid_set(uids)]
    if since is not None:  # not .SILENT: the replies carry the new MODSEQs we need
        args += [f"(UNCHANGEDSINCE {since})", f"{sign}FLAGS"]
    else:
        args.append(f"{sign}FLAGS.SILENT")
    data = uid_command(client, "STORE", *args, f"({' '.join(flags)})")
    wanted = set(uids)
    with replies(client, "UID STORE"):
        parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=False)
        modseqs = {
            item[b"UID"]: int(item[b"MODSEQ"][0])
            for item in parsed.values()
            if item.get(b"UID") in wanted and isinstance(item.get(b"MODSEQ"), tuple)
        }
        refused = {
            uid
            for data_item in take_response(client, "MODIFIED")
            for token in tokens(data_item)[:1]
            for uid in uid_set_members(token)
        }
    refused &= wanted
    return refused, {uid: modseq for uid, modseq in modseqs.items() if uid not in refused}


def move(client: ImapClient, uids: Iterable[int], to_folder: str) -> dict[int, int | None]:
    """Moves messages; returns {old UID: UID in `to_folder`, or None when the server did not
    say (no UIDPLUS)}. Raises FolderMissing when `to_folder` does not exist."""
    moved: dict[int, int | None] = dict.fromkeys(sorted(set(uids)))
    for chunk in batches(list(moved), STORE_BATCH):
        take_response(client, "COPYUID")
        if client.has_capability("MOVE"):
            with replies(client, "UID MOVE", folder=to_folder):
                client.move(uid_set(chunk), to_folder)
        else:
            with replies(client, "UID COPY", folder=to_folder):
                client.copy(uid_set(chunk), to_folder)
            _delete(client, chunk)
        with replies(client, "UID MOVE"):
            moved.update(_copied(take_response(client, "COPYUID"), set(chunk)))
    return moved


def _copied(responses: list[bytes], wanted: set[int]) -> dict[int, int]:
    """COPYUID data (RFC 4315: "uidvalidity source-set destination-set") as {old: new}."""
    pairs: dict[int, int] = {}
    for response in responses:
        parsed = tokens(response)
        if len(parsed) == 3:
            old, new = uid_set_members(parsed[1]), uid_set_members(parsed[2])
            pairs.update((o, n) for o, n in zip(old, new, strict=False) if o in wanted)
    return pairs


def delete_permanently(client: ImapClient, uids: Iterable[int]) -> None:
    """Marks \\Deleted and expunges (see the module's note for servers without UIDPLUS)."""
    for chunk in batches(sorted(set(uids)), STORE_BATCH):
        _delete(client, chunk)


def _delete(client: ImapClient, uids: Sequence[int]) -> None:
    _store(client, uids, "+", [DELETED], None)
    with replies(client, "EXPUNGE"):
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uid_set(uids))
        elif not set(client.search("DELETED")) - set(uids):
            client.expunge()


def append(
    client: ImapClient,
    folder: str,
    raw: bytes,
    flags: Sequence[str] = (),
    date: dt.datetime | None = None,
) -> int | None:
    """Stores a message in `folder`; its new UID when the server says (APPENDUID)."""
    check_flags(flags)
    take_response(client, "APPENDUID")
    with replies(client, "APPEND", folder=folder):
        client.append(folder, raw, flags, date)
        for response in take_response(client, "APPENDUID"):
            parsed = tokens(response)  # "uidvalidity uid"
            if len(parsed) == 2 and isinstance(parsed[1], int):
                return parsed[1]
    return None


def find_message_id(client: ImapClient, folder: str, message_id: str) -> list[int]:
    """The UIDs in `folder` (selecting it) whose Message-ID header holds `message_id`."""
    select(client, folder)
    with replies(client, "UID SEARCH"):
        return sorted(client.search(["HEADER", "Message-ID", message_id]))


def mark_all_read(client: ImapClient, folder: str) -> list[int]:
    """Sets \\Seen on every unseen message of `folder` (selecting it); returns their UIDs."""
    select(client, folder)
    with replies(client, "UID SEARCH"):
        unseen = sorted(client.search("UNSEEN"))
    if unseen:
        set_flags(client, unseen, add=[SEEN])
    return unseen


def empty_folder(client: ImapClient, folder: str) -> int:
    """Deletes every message of `folder` (selecting it) for good; returns how many."""
    select(client, folder)
    present = uids_in(client)
    if present:
        delete_permanently(client, present)
    return len(present)
