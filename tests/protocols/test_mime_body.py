"""parse_body(): the content parse_message() reads, without decoding the header fields."""

from pathlib import Path

import pytest

from mailbox.protocols.imap_envelopes import field_problems
from mailbox.protocols.mime import parse_body, parse_headers, parse_message
from tests.harness import messages

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "eml"
CONTENT_FIELDS = ("text", "html", "attachments", "has_attachments", "snippet", "size")


def corpus() -> list[tuple[str, bytes]]:
    files = [(path.name, path.read_bytes()) for path in sorted(CORPUS.glob("*.eml"))]
    made = [("with_attachments", messages.with_attachments())]
    made += [(f"volume-{i}", raw) for i, raw in enumerate(messages.volume(40, seed=7))]
    return [*files, *made, ("empty", b""), ("no-headers", b"just a line\r\n")]


@pytest.mark.parametrize(("name", "raw"), corpus(), ids=[name for name, _ in corpus()])
def test_the_body_is_read_as_the_whole_message_reads_it(name: str, raw: bytes) -> None:
    whole, body = parse_message(raw), parse_body(raw)

    for field in CONTENT_FIELDS:
        assert getattr(body, field) == getattr(whole, field), field


@pytest.mark.parametrize(("name", "raw"), corpus(), ids=[name for name, _ in corpus()])
def test_the_body_and_the_header_fields_together_say_every_problem(name: str, raw: bytes) -> None:
    """What the sync stores: the envelope's field problems (from the header block alone) and
    the body's own problems are the whole message's problems."""
    header_block = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\r\n\r\n"
    fields = field_problems(parse_headers(header_block).problems)

    together = set(fields) | set(parse_body(raw).problems)

    assert together == set(parse_message(raw).problems)
