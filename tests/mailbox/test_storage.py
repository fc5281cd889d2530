import gzip
from pathlib import Path

import pytest
import zstandard

from mailbox import storage
from tests.harness import messages


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MAIL_STORAGE_DIR = tmp_path
    return tmp_path


def test_raw_messages_come_back_byte_for_byte_and_compressed(storage_dir: Path) -> None:
    raw = messages.with_attachments()

    stored = storage.store(7, raw)

    assert storage.read_raw(stored.path) == raw
    assert stored.size == len(raw)
    file = storage_dir / stored.path
    data = file.read_bytes()
    unpacked = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert data[:4] == b"\x28\xb5\x2f\xfd" and unpacked == raw
    assert len(data) < len(raw)


def test_the_same_content_twice_is_one_file(storage_dir: Path) -> None:
    first = storage.store(7, b"Subject: a\r\n\r\nbody\r\n")
    second = storage.store_stream(7, [b"Subject: a\r\n", b"\r\nbody\r\n"])

    assert first == second
    assert len(list((storage_dir / "7").rglob("*.eml.zst"))) == 1
    assert not list((storage_dir / "7").rglob("*.part"))


def test_a_failed_write_leaves_no_file(storage_dir: Path) -> None:
    def broken_stream():  # type: ignore[no-untyped-def]
        yield b"Subject: half\r\n"
        raise ConnectionResetError("the server went away")

    with pytest.raises(ConnectionResetError):
        storage.store_stream(7, broken_stream())

    assert not [path for path in storage_dir.rglob("*") if path.is_file()]


def test_removing_an_account_removes_its_files(storage_dir: Path) -> None:
    storage.store(7, b"one")
    kept = storage.store(8, b"two")

    storage.remove_account(7)

    assert not (storage_dir / "7").exists()
    assert storage.read_raw(kept.path) == b"two"


@pytest.mark.django_db
@pytest.mark.both_databases
def test_small_messages_go_to_the_database_big_ones_to_files(storage_dir: Path) -> None:
    from accounts.models import User
    from mailbox.models import RawBlob
    from tests.accounts.factories import make_account

    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    small, big = messages.plain_text(), b"Subject: big\r\n\r\n" + b"x" * (storage.SMALL_LIMIT + 1)

    stored = storage.store_many(account.pk, [small, big, small])

    assert [storage.read_raw(item.path) for item in stored] == [small, big, small]
    assert stored[0].path.startswith("db:") and not stored[1].path.startswith("db:")
    assert RawBlob.objects.filter(account=account).count() == 1  # the same content once
    assert len(list(storage_dir.rglob("*.eml.zst"))) == 1
    assert storage.open_raw(stored[0].path).read() == small
    storage.remove(stored[0].path)
    assert not RawBlob.objects.exists()


@pytest.mark.django_db
def test_a_blob_stored_before_zstd_still_reads(storage_dir: Path) -> None:
    import hashlib
    import zlib

    from accounts.models import User
    from mailbox.models import RawBlob
    from tests.accounts.factories import make_account

    account = make_account(User.objects.create_user("alice"), "alice@example.test")
    raw = messages.plain_text()
    sha256 = hashlib.sha256(raw).hexdigest()
    RawBlob.objects.create(account=account, sha256=sha256, data=zlib.compress(raw), size=len(raw))

    assert storage.read_raw(f"db:{account.pk}:{sha256}") == raw
    stored = storage.store_many(account.pk, [raw])  # the same content again: kept as it is
    assert storage.read_raw(stored[0].path) == raw
    assert bytes(RawBlob.objects.get().data)[:1] == b"\x78"  # still the zlib stream


def test_a_file_written_before_zstd_is_still_read(storage_dir: Path) -> None:
    raw = messages.with_attachments()
    path = "7/ab/old-message.eml.gz"
    (storage_dir / "7" / "ab").mkdir(parents=True)
    (storage_dir / path).write_bytes(gzip.compress(raw))

    assert storage.read_raw(path) == raw
    with storage.open_raw(path) as stream:
        assert stream.read() == raw
