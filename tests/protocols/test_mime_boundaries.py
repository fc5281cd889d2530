"""mime_boundaries: the parser's boundary test answers exactly as the expression it replaces."""

import email
import random
import re
from email import feedparser
from email.policy import compat32
from pathlib import Path

from mailbox.protocols import mime_boundaries
from mailbox.protocols.mime import parse_message
from mailbox.protocols.mime_boundaries import BoundaryLine, compile_pattern, standard_parser
from tests.harness import messages
from tests.protocols.test_mime_fuzz import inputs
from tests.protocols.test_mime_pool import HOSTILE

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "eml"
SUFFIX = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
# Characters re.escape() treats specially, and others boundaries are made of.
ALPHABET = "aZ09'()+_,-./:=? \t\\[]{}*|^$&~#\r\n\x0b\x0cé\udcff"


def feedparser_pattern(separator: str) -> str:
    """What email.feedparser compiles for a multipart whose separator is `separator`."""
    return "(?P<sep>" + re.escape(separator) + SUFFIX


def groups(match: re.Match[str] | None) -> tuple[str | None, ...] | None:
    return None if match is None else match.group("end", "ws", "linesep")


def lines_about(separator: str, rng: random.Random) -> list[str]:
    endings = ["", "\n", "\r\n", "\r", "\n\n", "x\n"]
    tails = ["", "--", " ", "\t ", "-- \t", "---", "x", " x", "--x"]
    lines = [separator + tail + end for tail in tails for end in endings]
    lines += [separator[:-1], separator[1:], "", "--", "\n", separator.upper() + "\n"]
    lines += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12))) for _ in range(5)]
    return lines


def test_a_boundary_line_matches_as_the_compiled_expression_would() -> None:
    rng = random.Random(11)
    separators = ["--" + "".join(rng.choice(ALPHABET) for _ in range(n)) for n in range(0, 40)]
    separators += ["--simple", "--===============1234567890==", "----=_Part_0_1.2", "--a--"]
    for separator in separators:
        fast = compile_pattern(feedparser_pattern(separator))
        slow = re.compile(feedparser_pattern(separator))
        assert isinstance(fast, BoundaryLine)
        assert fast.separator == separator
        for line in lines_about(separator, rng):
            assert groups(fast.match(line)) == groups(slow.match(line)), (separator, line)


def test_any_other_pattern_is_compiled_by_re() -> None:
    for pattern in [r"(\r\n|\r|\n)\Z", "(?P<sep>--x)", "(?P<sep>--x)--$", "(abc" + SUFFIX]:
        assert compile_pattern(pattern) == re.compile(pattern)
    assert compile_pattern(feedparser_pattern("--x"), re.IGNORECASE).flags & re.IGNORECASE


def corpus() -> list[bytes]:
    return [
        *messages.volume(60, seed=9),
        *messages.every_kind().values(),
        *[path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))],
        *HOSTILE,
        *inputs(seed=5, count=200),
    ]


def test_every_message_parses_as_with_the_standard_parser() -> None:
    mime_boundaries.install()
    assert feedparser.re is not re  # installed by importing mime, and once only
    raws = corpus()
    with standard_parser():
        standard = [(parse_message(raw), _tree(raw)) for raw in raws]
    assert [(parse_message(raw), _tree(raw)) for raw in raws] == standard


def _tree(raw: bytes) -> tuple:
    """The parser's view: every part's type, payload and defects, preamble and epilogue."""
    try:
        message = email.message_from_bytes(raw, policy=compat32)
    except RecursionError:  # nested past the interpreter's limit (mime reads its headers only)
        return ("too deep",)
    return tuple(
        (
            part.get_content_type(),
            part.preamble,
            part.epilogue,
            [type(defect).__name__ for defect in part.defects],
            None if part.is_multipart() else part.get_payload(),
        )
        for part in message.walk()
    )
