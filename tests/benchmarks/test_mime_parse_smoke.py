"""The MIME benchmark at a tiny size, so that it cannot rot between measurements."""

from benchmarks import mime_parse
from mailbox.protocols.mime import parse_message
from tests.harness import messages


def test_every_volume_message_parses_with_a_subject_and_a_sender() -> None:
    for raw in messages.volume(20):
        message = parse_message(raw)
        assert message.subject and message.sender, message.problems


def test_the_benchmark_times_every_way_over_every_message() -> None:
    figures = mime_parse.run(count=20)

    assert [figure.name for figure in figures] == list(mime_parse.WAYS)
    assert all(figure.count == 20 and figure.seconds > 0 for figure in figures)
    assert mime_parse.report(figures).count("x limit") == len(figures)
