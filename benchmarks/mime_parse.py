"""How close does parse_message() stay to the standard email package's own speed?

Three ways over the same N messages from tests.harness.messages.volume(N), on one core:

- the limit: email.message_from_bytes(policy=compat32), walking the parts and decoding the
  text ones to str (what any body extraction must do at least);
- the same with policy=default and get_content() (the modern API);
- mailbox.protocols.mime.parse_message() (headers decoded, bodies, attachments, snippet).

    .venv/bin/python -m benchmarks.mime_parse --messages 10000 --rounds 3
"""

import argparse
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from email import message_from_bytes, policy

from mailbox.protocols.mime import parse_message
from mailbox.protocols.mime_boundaries import standard_parser
from tests.harness import messages

LIMIT = "email, policy=compat32 (the limit)"


@dataclass(frozen=True)
class Figure:
    name: str
    seconds: float
    count: int  # messages parsed: every way must see all of them


def compat32_texts(raw: bytes) -> int:
    count = 0
    for part in message_from_bytes(raw, policy=policy.compat32).walk():
        if part.get_content_maintype() == "text":
            data = part.get_payload(decode=True) or b""
            count += len(data.decode(part.get_content_charset() or "ascii", "replace"))
    return count


def default_texts(raw: bytes) -> int:
    count = 0
    for part in message_from_bytes(raw, policy=policy.default).walk():
        if part.get_content_maintype() == "text":
            count += len(part.get_content())
    return count


def parsed(raw: bytes) -> int:
    message = parse_message(raw)
    assert message.subject and message.sender, message.problems
    return len(message.text)


WAYS: dict[str, Callable[[bytes], int]] = {
    LIMIT: compat32_texts,
    "email, policy=default": default_texts,
    "parse_message()": parsed,
}


def _time(name: str, parse: Callable[[bytes], int], corpus: list[bytes]) -> Figure:
    # CPU time of this process: parsing is CPU-bound on one core, and a shared machine's
    # other work then slows the figures less than it would wall-clock time. The standard
    # library's ways run with its own boundary matching (mailbox.protocols.mime_boundaries).
    with nullcontext() if parse is parsed else standard_parser():
        started = time.process_time()
        count = sum(1 for raw in corpus if parse(raw) >= 0)
        return Figure(name, time.process_time() - started, count)


def run(count: int, rounds: int = 1) -> list[Figure]:
    """The best of `rounds` for each way; the ways take turns, so a busy machine slows all."""
    corpus = list(messages.volume(count))
    best: dict[str, Figure] = {}
    for _ in range(rounds):
        for name, parse in WAYS.items():
            figure = _time(name, parse, corpus)
            if name not in best or figure.seconds < best[name].seconds:
                best[name] = figure
    return list(best.values())


def report(figures: list[Figure]) -> str:
    limit = figures[0].seconds
    lines = [f"{'':40} {'CPU s':>8} {'msg/s':>8}  ratio"]
    for figure in figures:
        rate = figure.count / figure.seconds
        ratio = figure.seconds / limit
        lines.append(f"{figure.name:40} {figure.seconds:8.2f} {rate:8.0f}  {ratio:.2f}x limit")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="report the best of so many")
    arguments = parser.parse_args()
    print(
        f"{arguments.messages} messages from tests.harness.messages.volume(), one core, "
        f"best of {arguments.rounds}"
    )
    print(report(run(arguments.messages, arguments.rounds)))


if __name__ == "__main__":
    main()
