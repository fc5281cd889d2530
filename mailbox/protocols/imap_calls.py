"""How the IMAP sync modules call IMAPClient: typed errors, UID sets, response codes.

IMAPClient's methods cover most commands. What they don't take: a UID range such as `1:*`
(`IMAPClient.fetch()` int()s every message id to filter its reply), CONDSTORE's
UNCHANGEDSINCE on STORE, and QRESYNC's VANISHED modifier. For those, `uid_command()` sends
the command through imaplib's public `uid()` on IMAPClient's own connection, and the reply
is parsed by IMAPClient's `parse_fetch_response()`/`parse_response()`; the plain FETCH replies
the sync reads in bulk go through the quicker `imap_responses.fetch_responses()` first.
Response codes (COPYUID, APPENDUID, MODIFIED, VANISHED) are taken with imaplib's public
`response()`: imaplib files every `[CODE ...]` and untagged response it reads under its name.
Nothing here patches imaplib or IMAPClient.
"""

import imaplib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from imapclient.exceptions import ProtocolError
from imapclient.response_parser import parse_fetch_response, parse_response

from mailbox.protocols.errors import (
    ActionRefused,
    ConnectFailed,
    FolderMissing,
    ProtocolFailure,
    TimedOut,
)
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_responses import fetch_responses

T = TypeVar("T")

# RFC 5530 / RFC 3501 response codes that mean "no such folder".
_MISSING_FOLDER_CODES = ("NONEXISTENT", "TRYCREATE")


@contextmanager
def replies(client: ImapClient, command: str, folder: str | None = None) -> Iterator[None]:
    """Library and socket failures as typed errors.

    A broken connection or an unparsable reply is a ProtocolFailure: the whole command failed,
    nothing it returned is kept. A NO/BAD is ActionRefused in the server's words, or
    FolderMissing when it says the folder `folder` does not exist.
    """
    server = client.endpoint
    if folder is not None:
        _missing_folder_said(client)  # forget codes of earlier commands
    try:
        yield
    except (imaplib.IMAP4.abort, ProtocolError) as exc:  # abort: connection broke mid-reply
        raise ProtocolFailure(server.host, server.port, str(exc)) from exc
    except imaplib.IMAP4.error as exc:
        reply = server_words(exc)
        if folder is not None and _missing_folder_said(client):
            raise FolderMissing(folder, reply) from exc
        raise ActionRefused(command, reply) from exc
    except TimeoutError as exc:
        raise TimedOut(server.host, server.port) from exc
    except OSError as exc:
        raise ConnectFailed(server.host, server.port, exc.strerror or str(exc)) from exc


def _missing_folder_said(client: ImapClient) -> bool:
    """Whether the last reply carried [NONEXISTENT] (RFC 5530) or [TRYCREATE] (RFC 3501), as
    imaplib filed it under the code's name (the reply's text is the server's to word)."""
    return any([take_response(client, code) for code in _MISSING_FOLDER_CODES])


def server_words(exc: BaseException) -> str:
    """The reply inside IMAPClient's "<command> failed: <reply>" (or imaplib's message)."""
    text = str(exc)
    return text.partition(" failed: ")[2] or text


def text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def uid_command(client: ImapClient, command: str, *args: str) -> list[Any]:
    """`UID <command> <args>`; returns imaplib's untagged FETCH data (IMAPClient parses it)."""
    with replies(client, f"UID {command}"):
        status, data = client._imap.uid(command, *args)
    if status != "OK":
        raise ActionRefused(f"UID {command}", text(data[-1] if data else ""))
    return [item for item in data if item is not None]


def responses_by_uid(data: list[Any]) -> dict[int, dict[bytes, Any]]:
    """A UID FETCH reply (imaplib's data) parsed by IMAPClient, keyed by the UID inside each
    response. IMAPClient's fetch() files a response without one (an unsolicited flag update
    for another message) under its sequence number, which may equal a UID asked for, and
    merges it into that message's: keyed by sequence number first, such a response is left out.
    """
    parsed = fetch_responses(data)  # the quick reader, for the plain replies the sync asks for
    if parsed is None:
        parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=False)
    return {item[b"UID"]: item for item in parsed.values() if b"UID" in item}


def take_response(client: ImapClient, name: str) -> list[bytes]:
    """The data of every `name` response (or response code) received since the last take,
    cleared so that the next command starts afresh."""
    _, data = client._imap.response(name)
    return [item for item in data if isinstance(item, bytes)]


def uid_set(uids: Iterable[int]) -> str:
    """UIDs as a compact IMAP sequence set: [1, 2, 3, 7] -> "1:3,7"."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("an empty UID set")
    runs: list[str] = []
    start = previous = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        runs.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(runs)


def uid_set_members(token: object) -> list[int]:
    """A sequence set token of IMAPClient's parser (b"1:3,7", or 7 alone) as [1, 2, 3, 7]."""
    if isinstance(token, int):
        return [token]
    members: list[int] = []
    for part in text(token).split(","):
        low, _, high = part.partition(":")
        try:
            first, last = sorted((int(low), int(high or low)))
        except ValueError as exc:  # inside replies(): a broken reply, as a ProtocolFailure
            raise ProtocolError(f"not a UID set: {token!r}") from exc
        members.extend(range(first, last + 1))
    return members


def tokens(data: bytes) -> tuple[Any, ...]:
    """A response's data (b"(EARLIER) 1:3") split by IMAPClient's parser."""
    try:
        return parse_response([data])
    except ProtocolError:
        return ()


def batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError("batch size must be positive")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def flag_names(flags: Iterable[bytes | str | int]) -> frozenset[str]:
    return frozenset(text(flag) for flag in flags)


def message_flags(flags: Iterable[bytes | str | int]) -> frozenset[str]:
    """A message's FLAGS without \\Recent: that one is per session (and gone in IMAP4rev2),
    nothing a store should keep or compare."""
    return frozenset(name for name in flag_names(flags) if name.lower() != "\\recent")
