"""Hostile sizes and shapes: parse_message() stays bounded in depth, parts, text and time."""

import time

from mailbox.protocols import mime, mime_parts
from mailbox.protocols.mime import parse_message

HEAD = b"From: a@example.test\r\nSubject: Limits\r\nDate: Mon, 4 Mar 2024 09:30:00 +0000\r\n"


def codes(message: mime.ParsedMessage) -> set[str]:
    return {problem.split(":")[0] for problem in message.problems}


def nested(levels: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(levels)
    )
    closing = b"".join(b"\r\n--n%d--" % i for i in reversed(range(levels)))
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\ndeep" + closing + b"\r\n"


def html_only(html: bytes) -> bytes:
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html


def timed(raw: bytes) -> tuple[mime.ParsedMessage, float]:
    started = time.perf_counter()
    message = parse_message(raw)
    return message, time.perf_counter() - started


def test_nesting_at_the_limit_is_read_and_below_it_is_not() -> None:
    assert parse_message(nested(mime_parts.MAX_DEPTH)).text == "deep"

    too_deep = parse_message(nested(mime_parts.MAX_DEPTH + 1))
    assert too_deep.text == "" and codes(too_deep) == {"too-deep"}


def test_nesting_deeper_than_python_can_recurse_keeps_the_headers() -> None:
    message, seconds = timed(nested(3000))  # the stdlib parser recurses once per level

    assert message.subject == "Limits" and message.sender is not None
    assert "too-deep" in codes(message)  # judged before parsing: never a RecursionError
    assert seconds < 5


def test_parts_beyond_the_limit_are_not_read() -> None:
    parts = b"".join(
        b'--p\r\nContent-Type: application/octet-stream; name="f%d.bin"\r\n\r\nx\r\n' % i
        for i in range(mime_parts.MAX_PARTS + 100)
    )
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n' + parts + b"--p--\r\n"

    message, seconds = timed(raw)

    assert len(message.attachments) == mime_parts.MAX_PARTS - 1  # the root is a part too
    assert codes(message) == {"too-many-parts"}
    assert seconds < 5


def test_a_huge_body_is_cut_and_says_so() -> None:
    raw = HEAD + b"Content-Type: text/plain\r\n\r\n" + b"0123456789" * 250_000

    message = parse_message(raw)

    assert len(message.text) == mime.MAX_BODY_CHARS
    assert codes(message) == {"truncated"}


def test_unclosed_tags_and_scripts_do_not_make_the_snippet_slow() -> None:
    for html in (b"<" * 1_000_000, b"<script>" * 200_000, b"<style " * 200_000, b"<!--" * 250_000):
        message, seconds = timed(html_only(html))
        assert seconds < 2, html[:20]
        assert message.snippet.count("<") <= 200


def test_a_punycode_charset_is_refused_rather_than_run() -> None:
    raw = HEAD + b"Content-Type: text/plain; charset=punycode\r\n\r\n" + b"a-" * 200_000

    message, seconds = timed(raw)

    assert seconds < 2 and message.text.startswith("a-a-")


def test_thousands_of_recipients_and_references_are_read_quickly() -> None:
    to = b", ".join(b"Person %d <p%d@example.test>" % (i, i) for i in range(5000))
    references = b"\r\n ".join(b"<r%d@example.test>" % i for i in range(5000))
    raw = HEAD + b"To: " + to + b"\r\nReferences: " + references + b"\r\n\r\nhi\r\n"

    message, seconds = timed(raw)

    assert len(message.to) == 5000 and len(message.references) == 100
    assert seconds < 2
