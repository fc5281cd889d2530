"""Writing messages straight into Dovecot's Maildir++ folders: 10,000 in seconds, unlike APPEND.

Messages are written to tmp/ and renamed into new/ (no flags) or cur/ (with `:2,<flags>`),
owned by the mail user. File names start with one timestamp and a counter that grows with
every message, so Dovecot, which sorts new files by name, gives UIDs in the order seeded.
The file's mtime is the message's Date header, which Dovecot reports as INTERNALDATE.
"""

import email.utils
import itertools
import os
import re
import socket
import time
from collections.abc import Iterable
from pathlib import Path

from tests.harness.daemons import MailServerError

# IMAP system flag -> Maildir info letter (letters must be written in ASCII order).
FLAG_LETTERS = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
}
_DATE = re.compile(rb"^Date:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def flag_suffix(flags: Iterable[str]) -> str:
    """`:2,FS` for {"\\Seen", "\\Flagged"}; "" for no flags (the message then goes to new/)."""
    letters = []
    for flag in flags:
        letter = next((v for k, v in FLAG_LETTERS.items() if k.lower() == flag.lower()), None)
        if letter is None:
            raise MailServerError(f"seeding supports the system flags {list(FLAG_LETTERS)}: {flag}")
        letters.append(letter)
    return ":2," + "".join(sorted(set(letters))) if letters else ""


def folder_dir(maildir: Path, folder: str, separator: str) -> Path:
    """The Maildir++ folder of an IMAP folder name: "Sent" -> .Sent, "A/B" -> .A.B."""
    if folder.upper() == "INBOX":
        return maildir
    parts = folder.split(separator)
    if any(not part or "." in part for part in parts):
        raise MailServerError(f"folder {folder!r} cannot be stored as Maildir++ (empty or '.')")
    return maildir / ("." + ".".join(parts))


def message_time(message: bytes) -> float | None:
    """The Date header as a Unix time, for INTERNALDATE; None when missing or unparsable."""
    header_end = message.find(b"\n\n")
    crlf_end = message.find(b"\r\n\r\n")
    ends = [end for end in (header_end, crlf_end) if end >= 0]
    head = message[: min(ends)] if ends else message
    match = _DATE.search(head)
    if match is None:
        return None
    try:
        value = match.group(1).decode("ascii", errors="replace")
        return email.utils.parsedate_to_datetime(" ".join(value.split())).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class MaildirWriter:
    """Writes message files for one mail server instance (its counter keeps UIDs in order)."""

    def __init__(self, owner: tuple[int, int]) -> None:
        self.owner = owner
        self._counter = itertools.count()
        self._host = socket.gethostname().replace("/", "_").replace(":", "_")

    def make_folder(self, path: Path, is_subfolder: bool) -> None:
        for sub in ("cur", "new", "tmp"):
            self._make_dir(path / sub)
        if is_subfolder and not (path / "maildirfolder").exists():
            marker = path / "maildirfolder"
            marker.touch()
            os.chown(marker, *self.owner)

    def _make_dir(self, path: Path) -> None:
        missing = []
        for parent in [path, *path.parents]:
            if parent.exists():
                break
            missing.append(parent)
        for folder in reversed(missing):
            folder.mkdir(mode=0o700)
            os.chown(folder, *self.owner)

    def write(self, folder: Path, messages: list[bytes], flags: list[str]) -> list[Path]:
        """Writes each message with its flag suffix (`flags[i]`, "" for none)."""
        stamp = int(time.time())
        pid = os.getpid()
        written = []
        for message, suffix in zip(messages, flags, strict=True):
            base = f"{stamp}.M{next(self._counter):09d}P{pid}.{self._host},S={len(message)}"
            tmp = folder / "tmp" / base
            with open(tmp, "wb") as out:
                out.write(message)
                os.fchown(out.fileno(), *self.owner)
            when = message_time(message)
            if when is not None:
                os.utime(tmp, (when, when))
            final = folder / ("cur" if suffix else "new") / (base + suffix)
            os.rename(tmp, final)
            written.append(final)
        return written
