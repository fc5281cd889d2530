"""Raw messages on disk: one gzip file per message content, named by its SHA-256.

Why files and not the database: raw messages are written once and read rarely (view source,
attachment download, forward), can be tens of megabytes, and would swell every database
backup and vacuum; gzip at level 1 costs little CPU and roughly halves mail's size. The files
are what keeps source and attachments available after a POP3 server deleted the message.

Layout: MAIL_STORAGE_DIR/<account id>/<sha[:2]>/<sha>.eml.gz, shared by web and workers (the
compose file mounts one volume for it). A file is written under a temporary name in the same
folder and renamed, so a crash never leaves half a file under the final name, and the same
content stored twice lands on the same name.
"""

import gzip
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class StoredRaw:
    sha256: str
    path: str  # relative to MAIL_STORAGE_DIR
    size: int  # uncompressed bytes


def _root() -> Path:
    return Path(settings.MAIL_STORAGE_DIR)


def relative_path(account_id: int, sha256: str) -> str:
    return f"{account_id}/{sha256[:2]}/{sha256}.eml.gz"


def store(account_id: int, raw: bytes) -> StoredRaw:
    return store_stream(account_id, [raw])


def store_stream(account_id: int, chunks: Iterable[bytes]) -> StoredRaw:
    """Writes a message given in pieces (a big one never needs to be in memory whole)."""
    folder = _root() / str(account_id)
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with (
            os.fdopen(handle, "wb") as file,
            gzip.GzipFile(fileobj=file, mode="wb", compresslevel=COMPRESS_LEVEL, mtime=0) as out,
        ):
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        sha256 = digest.hexdigest()
        final = _root() / relative_path(account_id, sha256)
        final.parent.mkdir(exist_ok=True)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return StoredRaw(sha256, relative_path(account_id, sha256), size)


def open_raw(path: str) -> BinaryIO:
    """The raw message as a stream of its uncompressed bytes."""
    return gzip.open(_root() / path, "rb")  # type: ignore[return-value]


def read_raw(path: str) -> bytes:
    with open_raw(path) as stream:
        return stream.read()


def remove(path: str) -> None:
    (_root() / path).unlink(missing_ok=True)


def remove_account(account_id: int) -> None:
    shutil.rmtree(_root() / str(account_id), ignore_errors=True)
