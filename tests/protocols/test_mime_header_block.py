"""mime_header_block: a header block's fields exactly as the standard compat32 parser reads
them, or a refusal that sends the block to that parser."""

import random
from email.parser import BytesHeaderParser
from email.policy import compat32

from mailbox.protocols import mime
from mailbox.protocols.mime_header_block import fields
from tests.protocols.test_mime_boundaries import corpus

# Pieces of header lines, the odd ones included: bare CR and LF, folding, a field name with
# a space or none at all, "From " lines, 8-bit bytes, a block ended early.
PIECES = [
    b"Subject: hello",
    b"From: Alice <alice@example.test>",
    b"To: bob@example.test,\r\n carol@example.test",
    b"Date: Mon, 02 Mar 2026 10:00:00 +0000",
    b"Message-ID: <a@b>",
    b"X-Empty:",
    b"X-Spaces:   \t ",
    b"Subject:\r\n folded from the start",
    b" continuation",
    b"\tcontinuation",
    b"From someone Mon Mar  2 10:00:00 2026",
    b"Subject : spaced name",
    b": no name",
    b"no colon at all",
    b"Subject: caf\xc3\xa9 \xff",
    b"Subj\xe9ct: 8-bit name",
    b"Subject: bare\rCR",
    b"Subject: bare\nLF",
    b"",
    b"\r\n",
]


def header_blocks(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    blocks = [
        b"\r\n".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))
        + rng.choice([b"\r\n\r\n", b"\r\n", b"", b"\r\n\r\nbody\r\n", b"\n"])
        for _ in range(count)
    ]
    # Whole messages too: header_block() reads their fields and stops at the empty line.
    return blocks + corpus()


def standard_fields(raw: bytes) -> list[tuple[str, str]]:
    return list(BytesHeaderParser(policy=compat32).parsebytes(raw).raw_items())


def test_fields_are_the_standard_parsers_or_declined() -> None:
    read = 0
    for raw in header_blocks(seed=3, count=3000):
        found = fields(raw)
        if found is not None:
            read += 1
            assert found == standard_fields(raw), raw
    assert read > 1000  # the common blocks are read here, not handed on


def test_a_typical_imap_header_block_is_read_here() -> None:
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9e?= <renee@example.test>\r\n"
        b"To: bob@example.test,\r\n\tcarol@example.test\r\n"
        b"Subject: Lunch\r\n"
        b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
        b"\r\n"
    )

    assert fields(raw) == [
        ("From", "=?utf-8?q?Ren=C3=A9e?= <renee@example.test>"),
        ("To", "bob@example.test,\r\n\tcarol@example.test"),
        ("Subject", "Lunch"),
        ("Date", "Mon, 02 Mar 2026 10:00:00 +0000"),
    ]


def test_parse_headers_gives_what_the_standard_parser_gives() -> None:
    """The envelope, problems included, whichever way the block was read."""
    for raw in header_blocks(seed=4, count=1000):
        expected = mime._assemble(mime._headers_only(raw), mime._Body(), raw, [])
        assert mime.parse_headers(raw) == expected, raw
