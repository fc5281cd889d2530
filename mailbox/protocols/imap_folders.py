"""IMAP folders: the list with roles, SELECT with the sync cursor, and folder changes.

Roles come from SPECIAL-USE attributes (RFC 6154; also Gmail's older XLIST names) when the
server gives them, else from well-known names — and then only for folders at the top, or
right under INBOX (Courier's "INBOX.Sent") or "[Gmail]": a "Projects/Archive" folder is the
person's own, not the archive. A role an attribute gave is never given to another folder by
name, and each name-found role goes to one folder only. INBOX is always the inbox.

`select()` ENABLEs CONDSTORE and QRESYNC the first time (ENABLE is only legal before a
folder is selected), so that SELECT reports HIGHESTMODSEQ and later fetches can ask for
what changed since it.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Literal

from imapclient.exceptions import IllegalStateError, IMAPClientError
from imapclient.imap_utf7 import decode as decode_utf7

from mailbox.protocols.errors import ActionRefused, FolderMissing, ProtocolFailure
from mailbox.protocols.imap import ImapClient
from mailbox.protocols.imap_calls import flag_names, replies, server_words, text

Role = Literal["inbox", "sent", "drafts", "trash", "junk", "archive", "all", "flagged"]

ROLES_BY_ATTRIBUTE: dict[str, Role] = {
    "\\sent": "sent",
    "\\drafts": "drafts",
    "\\trash": "trash",
    "\\junk": "junk",
    "\\spam": "junk",  # XLIST
    "\\archive": "archive",
    "\\all": "all",
    "\\allmail": "all",  # XLIST
    "\\flagged": "flagged",
    "\\starred": "flagged",  # XLIST
    "\\inbox": "inbox",  # XLIST
}
_NAMES: dict[Role, tuple[str, ...]] = {
    "sent": (
        "sent", "sent items", "sent messages", "sent mail", "sent-mail", "gesendet",
        "gesendete objekte", "gesendete elemente", "envoyés", "éléments envoyés",
        "messages envoyés", "enviados", "elementos enviados", "posta inviata", "inviata",
        "verzonden", "verzonden items", "skickat", "wysłane",
    ),
    "drafts": ("drafts", "draft", "entwürfe", "brouillons", "borradores", "bozze", "concepten"),
    "trash": (
        "trash", "deleted items", "deleted messages", "deleted", "bin", "papierkorb",
        "gelöschte objekte", "gelöschte elemente", "corbeille", "éléments supprimés",
        "papelera", "elementos eliminados", "cestino", "prullenbak", "kosz",
    ),
    "junk": (
        "junk", "spam", "junk e-mail", "junk email", "junk mail", "bulk mail", "junk-e-mail",
        "spamverdacht", "courrier indésirable", "indésirables", "correo no deseado",
        "posta indesiderata",
    ),
    "archive": ("archive", "archives", "archiv", "archivo", "archivio", "archief"),
    "all": ("all mail", "alle nachrichten"),
    "flagged": ("starred", "flagged"),
}  # fmt: skip
ROLES_BY_NAME: dict[str, Role] = {name: role for role, names in _NAMES.items() for name in names}
NAME_ROLE_PARENTS = ("", "inbox", "[gmail]", "[google mail]")
NOT_SELECTABLE = frozenset({"\\noselect", "\\nonexistent"})
CONDSTORE_EXTENSIONS = ("CONDSTORE", "QRESYNC")


@dataclass(frozen=True)
class FolderInfo:
    name: str  # decoded from modified UTF-7: what the other functions take
    raw_name: str  # as on the wire (modified UTF-7): a stable key
    delimiter: str | None
    role: Role | None
    flags: frozenset[str]  # LIST attributes as sent, e.g. "\\HasNoChildren", "\\Sent"
    is_selectable: bool
    parent: str | None  # decoded name of the folder above, None at the top


@dataclass(frozen=True)
class FolderState:
    """The sync cursor SELECT reports (RFC 3501, RFC 7162)."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int | None  # None: no CONDSTORE here (or not asked for)
    exists: int


ListEntry = tuple[tuple[bytes, ...], bytes | None, bytes | str | int]


def list_folders(client: ImapClient) -> list[FolderInfo]:
    """Every folder (LIST "" "*") with its role, in the server's order."""
    with replies(client, "LIST"), _names_undecoded(client):
        listing = client.list_folders()
    return folder_infos(listing)


@contextmanager
def _names_undecoded(client: ImapClient) -> Iterator[None]:
    """IMAPClient decodes names itself; we keep the wire form too, so decode them here."""
    saved, client.folder_encode = client.folder_encode, False
    try:
        yield
    finally:
        client.folder_encode = saved


def folder_infos(listing: Iterable[ListEntry]) -> list[FolderInfo]:
    """LIST entries as IMAPClient parses them (flags, delimiter, undecoded name) -> folders."""
    entries = [_entry(flags, delimiter, name) for flags, delimiter, name in listing]
    by_attribute = {role for *_, role in entries if role is not None}
    named: set[Role] = set()
    folders = []
    for name, raw, delimiter, flags, role in entries:
        if role is None:
            role = _role_by_name(name, delimiter)
            if role in by_attribute or role in named:
                role = None
            elif role is not None:
                named.add(role)
        folders.append(
            FolderInfo(
                name=name,
                raw_name=raw,
                delimiter=delimiter,
                role=role,
                flags=flags,
                is_selectable=not {flag.lower() for flag in flags} & NOT_SELECTABLE,
                parent=_parent(name, delimiter),
            )
        )
    return folders


def _entry(
    flags: tuple[bytes, ...], delimiter: bytes | None, name: bytes | str | int
) -> tuple[str, str, str | None, frozenset[str], Role | None]:
    raw = text(name)
    decoded = decode_utf7(name) if isinstance(name, bytes) else raw
    names = flag_names(flags)
    role = "inbox" if decoded.upper() == "INBOX" else _role_by_attribute(names)
    return decoded, raw, text(delimiter) if delimiter else None, names, role


def _role_by_attribute(flags: frozenset[str]) -> Role | None:
    roles = [
        ROLES_BY_ATTRIBUTE[flag.lower()] for flag in flags if flag.lower() in ROLES_BY_ATTRIBUTE
    ]
    return min(roles) if roles else None  # several on one folder: any stable choice


def _role_by_name(name: str, delimiter: str | None) -> Role | None:
    parent, _, leaf = name.rpartition(delimiter) if delimiter else ("", "", name)
    if parent.lower() not in NAME_ROLE_PARENTS:
        return None
    return ROLES_BY_NAME.get(leaf.strip().lower())


def _parent(name: str, delimiter: str | None) -> str | None:
    if not delimiter or delimiter not in name:
        return None
    return name.rpartition(delimiter)[0] or None


def enable_extensions(client: ImapClient) -> frozenset[str]:
    """ENABLEs CONDSTORE and QRESYNC once per connection when the server has them."""
    if client.enabled is not None:
        return client.enabled
    with replies(client, "ENABLE"):
        wanted = [name for name in CONDSTORE_EXTENSIONS if client.has_capability(name)]
        if not wanted or not client.has_capability("ENABLE"):
            client.enabled = frozenset()
            return client.enabled
        try:
            enabled = client.enable(*wanted)
        except IllegalStateError:  # a folder is selected already: leave it without EXPUNGE
            if not client.has_capability("UNSELECT"):
                client.enabled = frozenset()
                return client.enabled
            client.unselect_folder()
            enabled = client.enable(*wanted)
    names = {text(name).upper() for name in enabled}
    if "QRESYNC" in names:
        names.add("CONDSTORE")  # RFC 7162 3.2.3: QRESYNC implies CONDSTORE
    client.enabled = frozenset(names)
    return client.enabled


def select(
    client: ImapClient, name: str, *, condstore: bool = True, readonly: bool = False
) -> FolderState:
    """SELECTs (or EXAMINEs, `readonly`) `name`; raises FolderMissing when it is not there.

    With `condstore` (and a server that has it) the state carries HIGHESTMODSEQ; without,
    `highestmodseq` is None and the caller refreshes flags another way.
    """
    if condstore:
        enable_extensions(client)
    with replies(client, "SELECT", folder=name):
        response = _select(client, name, readonly)
        uidvalidity = response.get(b"UIDVALIDITY")
        if uidvalidity is None:
            server = client.endpoint
            raise ProtocolFailure(server.host, server.port, f"no UIDVALIDITY for {name!r}")
        uidnext = response.get(b"UIDNEXT") or _uidnext_by_search(client)
    has_modseq = condstore and "CONDSTORE" in (client.enabled or ())
    return FolderState(
        uidvalidity=uidvalidity,
        uidnext=uidnext,
        highestmodseq=response.get(b"HIGHESTMODSEQ") if has_modseq else None,
        exists=response.get(b"EXISTS", 0),
    )


def _select(client: ImapClient, name: str, readonly: bool) -> dict:
    try:
        return client.select_folder(name, readonly=readonly)
    except IMAPClientError as refused:
        # Not every server says [NONEXISTENT] (Dovecot doesn't on SELECT): ask LIST.
        if client.folder_exists(name):
            raise
        raise FolderMissing(name, server_words(refused)) from refused


def _uidnext_by_search(client: ImapClient) -> int:
    """For servers that leave UIDNEXT out of SELECT: one more than the highest UID."""
    return max(client.search(["UID", "*"]), default=0) + 1


def create_folder(client: ImapClient, name: str) -> None:
    """Creates and subscribes `name` (so other mail programs show it too)."""
    with replies(client, "CREATE"):
        client.create_folder(name)
    with replies(client, "SUBSCRIBE"):
        client.subscribe_folder(name)


def rename_folder(client: ImapClient, old_name: str, new_name: str) -> None:
    """Renames; the subscription follows. Raises FolderMissing when `old_name` is gone."""
    with replies(client, "RENAME", folder=old_name):
        client.rename_folder(old_name, new_name)
    with replies(client, "SUBSCRIBE"):
        client.subscribe_folder(new_name)
    _unsubscribe_quietly(client, old_name)


def delete_folder(client: ImapClient, name: str) -> None:
    """Deletes `name` and its messages; servers refuse (ActionRefused) while it has children."""
    with replies(client, "DELETE", folder=name):
        client.delete_folder(name)
    _unsubscribe_quietly(client, name)


def _unsubscribe_quietly(client: ImapClient, name: str) -> None:
    # A stale subscription is harmless, and some servers drop it themselves.
    with suppress(ActionRefused), replies(client, "UNSUBSCRIBE"):
        client.unsubscribe_folder(name)
