import gzip
from pathlib import Path

import pytest

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
    assert file.read_bytes()[:2] == b"\x1f\x8b" and gzip.decompress(file.read_bytes()) == raw


def test_the_same_content_twice_is_one_file(storage_dir: Path) -> None:
    first = storage.store(7, b"Subject: a\r\n\r\nbody\r\n")
    second = storage.store_stream(7, [b"Subject: a\r\n", b"\r\nbody\r\n"])

    assert first == second
    assert len(list((storage_dir / "7").rglob("*.eml.gz"))) == 1
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
