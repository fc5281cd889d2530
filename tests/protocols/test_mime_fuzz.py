"""parse_message() never raises, for any bytes, and what it returns can be stored and found again.

hypothesis is not a dependency of the project, so the inputs come from a seeded generator:
random bytes, and the corpus and builder messages mutated with MIME-shaped fragments
(boundaries, encoded words, transfer encodings, NULs), truncated, spliced and flipped.
Same seed, same inputs: a failure reproduces.
"""

import random
from dataclasses import fields
from pathlib import Path

import pytest

from mailbox.protocols.mime import ParsedMessage, attachment_bytes, parse_message
from tests.harness import messages

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "eml"
SEEDS = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))] + list(
    messages.every_kind().values()
)
FRAGMENTS = [
    b"\r\n", b"\r\n\r\n", b"\n", b"--", b"--b1\r\n", b"--b1--\r\n", b":", b";", b'"', b"<", b">",
    b"Content-Type: multipart/mixed; boundary=b1\r\n",
    b"Content-Type: multipart/alternative\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Type: text/html; charset=utf-7\r\n\r\n<script>",
    b"Content-Type: text/plain; charset*=utf-8''x; charset*0=y\r\n",
    b"Content-Transfer-Encoding: base64\r\n\r\nAAE",
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=C3=\r\n",
    b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n",
    b"Content-Disposition: attachment; filename*0*=utf-8''%E6; filename*=x\r\n",
    b"Content-ID: <x@y>\r\n", b'<img src="cid:x@y">',
    b"=?utf-8?B?", b"=?utf-7?Q?+2D0-?=", b"?=", b"=?x-unknown-8bit?Q?=FF?=",
    b"\x00", b"\xff\xfe", b"\xed\xa0\xbd", b"\x1b$B", b"=\r\n",
    b"Date: Mon, 99 Foo 99999 99:99:99 +9999\r\n", b"From: <@>, ,,\r\n",
]  # fmt: skip


def mutate(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 8)):
        position = rng.randint(0, len(data))
        action = rng.randrange(5)
        if action == 0:
            data = data[:position] + rng.choice(FRAGMENTS) + data[position:]
        elif action == 1:
            data = data[: rng.randint(position, len(data))]
        elif action == 2 and position < len(data):
            data = data[:position] + bytes([rng.randrange(256)]) + data[position + 1 :]
        elif action == 3:
            data = data[:position] + data[position + rng.randint(1, 40) :]
        else:
            data = data[:position] + data[position : position + rng.randint(1, 200)] * 2
    return data


def inputs(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    found = [rng.randbytes(rng.randint(0, 3000)) for _ in range(count // 5)]
    found += [
        b"".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 60)))
        for _ in range(count // 5)
    ]
    found += [mutate(rng, rng.choice(SEEDS)) for _ in range(count - len(found))]
    return found


def assert_storable(message: ParsedMessage) -> None:
    """Every text can go into a database column: valid UTF-8, no NUL."""
    for field in fields(message):
        value = getattr(message, field.name)
        texts = [value] if isinstance(value, str) else []
        if isinstance(value, tuple):
            for item in value:
                texts += [item] if isinstance(item, str) else [str(v) for v in vars(item).values()]
        for text in texts:
            assert "\x00" not in text, (field.name, text)
            text.encode("utf-8")  # raises on lone surrogates


@pytest.mark.parametrize("seed", range(8))
def test_any_bytes_parse_and_every_listed_part_downloads(seed: int) -> None:
    for raw in inputs(seed, 500):
        message = parse_message(raw)

        assert isinstance(message, ParsedMessage) and message.size == len(raw), raw
        assert message.date is None or message.date.tzinfo is not None
        assert_storable(message)
        for info in message.attachments:
            listed, data = attachment_bytes(raw, info.part_id)
            assert listed == info and len(data) == info.size, raw
