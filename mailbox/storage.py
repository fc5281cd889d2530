"""Raw messages: small ones zstd-compressed in the database, big ones as zstd files.

Raw bytes are written once and read rarely (view source, attachment download, forward); they
are what keeps source and attachments available after a POP3 server deleted the message.
Measured here (benchmarks/sync_first.py and a micro-benchmark): creating one file costs
0.3-0.5 ms on this file system, more than parsing the message, so a first sync of 10,000
small messages spent a third of its time creating files. Rows in one bulk INSERT per batch
cost a few microseconds each. Big messages (over SMALL_LIMIT) would swell the database and
its backups, and are streamed, so they stay files. Paths say which: "db:<account>:<sha>"
or "<account>/<sha[:2]>/<sha>.eml.zst" relative to MAIL_STORAGE_DIR (files written before
zstd are "….eml.gz", gzip, and still read). zstd (level 1) compresses this mail as well as
zlib does, four times faster: zlib was a tenth of the first sync's body stage, and a third of
the time a 4 MB message took.

Layout: MAIL_STORAGE_DIR/<account id>/<sha[:2]>/<sha>.eml.zst, shared by web and workers (the
compose file mounts one volume for it). A file is written under a temporary name in the same
folder and renamed, so a crash never leaves half a file under the final name, and the same
content stored twice lands on the same name.
"""

import gzip
import hashlib
import io
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import zstandard
from django.conf import settings

COMPRESS_LEVEL = 1
SMALL_LIMIT = 256 * 1024
_DB = "db:"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # blobs stored before zstd are zlib streams


@dataclass(frozen=True)
class StoredRaw:
    sha256: str
    path: str  # relative to MAIL_STORAGE_DIR
    size: int  # uncompressed bytes


def _root() -> Path:
    return Path(settings.MAIL_STORAGE_DIR)


def relative_path(account_id: int, sha256: str) -> str:
    return f"{account_id}/{sha256[:2]}/{sha256}.eml.zst"


def store(account_id: int, raw: bytes) -> StoredRaw:
    """A message as a file (big messages, and whatever must not wait for a database write)."""
    return store_stream(account_id, [raw])


@dataclass(frozen=True)
class PreparedRaw:
    """A message ready for the store: a file already written, or a compressed database row."""

    stored: StoredRaw
    blob: bytes | None  # zstd data of the row to insert; None: the file is written


def store_many(account_id: int, raws: list[bytes]) -> list[StoredRaw]:
    """A batch of messages: the small ones in one INSERT, the big ones as files; in order."""
    prepared = prepare_many(account_id, raws)
    insert_prepared(account_id, prepared)
    return [item.stored for item in prepared]


def prepare_many(account_id: int, raws: Iterable[bytes]) -> list[PreparedRaw]:
    """Hashes and compresses a batch, and writes the big ones' files: no database, so a
    thread can do it beside the one writing the last batch (zstd, zlib and sha256 release
    the GIL)."""
    compress = zstandard.ZstdCompressor(level=COMPRESS_LEVEL).compress
    prepared = []
    for raw in raws:
        if len(raw) > SMALL_LIMIT:
            prepared.append(PreparedRaw(store(account_id, raw), None))
            continue
        sha256 = hashlib.sha256(raw).hexdigest()
        stored = StoredRaw(sha256, f"{_DB}{account_id}:{sha256}", len(raw))
        prepared.append(PreparedRaw(stored, compress(raw)))
    return prepared


def insert_prepared(account_id: int, prepared: Iterable[PreparedRaw]) -> None:
    """The database rows of prepare_many()'s small messages, in one INSERT."""
    from mailbox.models import RawBlob
    from mailbox.models.bulk import insert_rows

    blobs = {
        item.stored.sha256: (account_id, item.stored.sha256, item.blob, item.stored.size)
        for item in prepared
        if item.blob is not None
    }
    # The same content stored again (a replayed batch, a twin) is already there: keep it.
    fields = ["account_id", "sha256", "data", "size"]
    insert_rows(RawBlob, fields, list(blobs.values()), ignore_conflicts=True)


def store_stream(account_id: int, chunks: Iterable[bytes]) -> StoredRaw:
    """Writes a message given in pieces (a big one never needs to be in memory whole)."""
    folder = _root() / str(account_id)
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        compressor = zstandard.ZstdCompressor(level=COMPRESS_LEVEL)
        with os.fdopen(handle, "wb") as file, compressor.stream_writer(file) as out:
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


@contextmanager
def spool() -> Iterator[IO[bytes]]:
    """An anonymous file on the storage volume, for a big message on its way in: /tmp is
    often a tmpfs, i.e. memory again."""
    _root().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=_root()) as sink:
        yield sink


def open_raw(path: str) -> BinaryIO:
    """The raw message as a stream of its uncompressed bytes."""
    if path.startswith(_DB):
        return io.BytesIO(read_raw(path))
    if path.endswith(".gz"):  # written before zstd
        return gzip.open(_root() / path, "rb")  # type: ignore[return-value]
    return zstandard.ZstdDecompressor().stream_reader(open(_root() / path, "rb"), closefd=True)  # noqa: SIM115 (the reader closes it)


def _decompressed(data: bytes) -> bytes:
    if data.startswith(_ZSTD_MAGIC):
        return zstandard.ZstdDecompressor().decompress(data)
    return zlib.decompress(data)


def read_raw(path: str) -> bytes:
    if path.startswith(_DB):
        from mailbox.models import RawBlob

        account_id, sha256 = path[len(_DB) :].split(":", 1)
        blob = RawBlob.objects.get(account_id=int(account_id), sha256=sha256)
        return _decompressed(bytes(blob.data))
    with open_raw(path) as stream:
        return stream.read()


def remove(path: str) -> None:
    if path.startswith(_DB):
        from mailbox.models import RawBlob

        account_id, sha256 = path[len(_DB) :].split(":", 1)
        RawBlob.objects.filter(account_id=int(account_id), sha256=sha256).delete()
        return
    (_root() / path).unlink(missing_ok=True)


def remove_account(account_id: int) -> None:
    shutil.rmtree(_root() / str(account_id), ignore_errors=True)
