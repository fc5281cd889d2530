"""What changed in the selected folder: UIDs present, flags changed, messages expunged.

Three ways, cheapest first:
- `changes_since(client, modseq)`: with CONDSTORE (RFC 7162), one `UID FETCH 1:* (FLAGS)
  (CHANGEDSINCE m)` returns only the messages whose flags changed after `m`; with QRESYNC
  enabled it also reports the UIDs expunged since (`VANISHED`), else `vanished` is None.
- `flags_of(client, uids)`: without CONDSTORE, the flags of a bounded set of UIDs (say the
  newest thousand) refreshed in batches.
- `vanished_uids(known, uids_in(client))`: expunges found by comparing the UIDs the caller
  knows with those present — one `UID SEARCH ALL`, about 6 bytes a message.

All work on the folder `imap_folders.select()` selected.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mailbox.protocols.errors import ActionRefused
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_calls import (
    batches,
    message_flags,
    replies,
    responses_by_uid,
    take_response,
    tokens,
    uid_command,
    uid_set_members,
)

FLAG_BATCH = 2000


@dataclass(frozen=True)
class FlagChange:
    uid: int
    flags: frozenset[str]
    modseq: int


@dataclass(frozen=True)
class FlagChanges:
    changed: tuple[FlagChange, ...]  # by UID, ascending
    vanished: tuple[int, ...] | None  # None: the server cannot tell (no QRESYNC): diff UIDs


def uids_in(client: ImapClient) -> list[int]:
    """Every UID in the selected folder, ascending (UID SEARCH ALL)."""
    with replies(client, "UID SEARCH"):
        return sorted(client.search("ALL"))


def vanished_uids(known: Iterable[int], present: Iterable[int]) -> list[int]:
    """The UIDs the caller stored that the server no longer has (expunged elsewhere)."""
    return sorted(set(known) - set(present))


def changes_since(client: ImapClient, modseq: int) -> FlagChanges:
    """Flags changed after `modseq` (a HIGHESTMODSEQ the caller stored), and expunges.

    Raises ActionRefused when the server has no CONDSTORE: use `flags_of()` then.
    """
    if not client.has_capability("CONDSTORE"):
        raise ActionRefused("UID FETCH (CHANGEDSINCE)", "the server does not support CONDSTORE")
    qresync = "QRESYNC" in (client.enabled or ())
    modifiers = f"(CHANGEDSINCE {modseq}{' VANISHED' if qresync else ''})"
    data = uid_command(client, "FETCH", "1:*", "(UID FLAGS MODSEQ)", modifiers)
    with replies(client, "UID FETCH (CHANGEDSINCE)"):
        changed = _flag_changes(data)
        # Also the unsolicited "* VANISHED" of this folder's session: expunged all the same.
        vanished = _vanished(take_response(client, "VANISHED")) if qresync else None
    return FlagChanges(changed=changed, vanished=vanished)


def _flag_changes(data: list[object]) -> tuple[FlagChange, ...]:
    changes = {
        uid: FlagChange(uid, message_flags(item[b"FLAGS"]), _modseq(item))
        for uid, item in responses_by_uid(data).items()
        if b"FLAGS" in item
    }
    return tuple(changes[uid] for uid in sorted(changes))


def _modseq(item: dict) -> int:
    value = item.get(b"MODSEQ")
    return int(value[0]) if isinstance(value, tuple) and value else 0


def _vanished(responses: list[bytes]) -> tuple[int, ...]:
    """`* VANISHED (EARLIER) 3:5,9` data -> (3, 4, 5, 9)."""
    found: set[int] = set()
    for response in responses:
        parsed = tokens(response)
        if parsed:
            found.update(uid_set_members(parsed[-1]))
    return tuple(sorted(found))


def flags_of(
    client: ImapClient, uids: Sequence[int], *, batch: int = FLAG_BATCH
) -> dict[int, frozenset[str]]:
    """The flags of `uids` (those still there), for servers without CONDSTORE."""
    flags: dict[int, frozenset[str]] = {}
    wanted = set(uids)
    for chunk in batches(sorted(wanted), batch):
        data = uid_command(client, "FETCH", ",".join(map(str, chunk)), "(UID FLAGS)")
        with replies(client, "UID FETCH (FLAGS)"):
            response = responses_by_uid(data)
        flags.update(
            (uid, message_flags(item[b"FLAGS"]))
            for uid, item in response.items()
            if b"FLAGS" in item and uid in wanted
        )
    return flags
