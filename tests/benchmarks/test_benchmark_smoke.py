"""Each benchmark runs at a tiny size, so that it cannot rot between measurements."""

from benchmarks import imap_envelopes
from tests.harness.mailservers import MailServers


def test_imap_envelopes_benchmark_lists_every_message(mail_servers: MailServers) -> None:
    figures = imap_envelopes.run(mail_servers, count=20)

    counts = {figure.name: figure.count for figure in figures}
    assert counts.pop("seed: IMAP APPEND (1/20 sample)") == 1
    assert set(counts.values()) == {20}, counts
    assert all(figure.seconds > 0 for figure in figures)
    assert imap_envelopes.report(figures).count("x baseline") == len(figures)
