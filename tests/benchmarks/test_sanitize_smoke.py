"""The sanitiser benchmark runs at a tiny size, so that it cannot rot between measurements."""

from benchmarks import sanitize


def test_sanitize_benchmark_reports_each_method_against_the_baseline() -> None:
    figures = sanitize.run(repeats=1, articles=2)

    assert [figure.body for figure in figures] == ["newsletter"] * 3 + ["small"] * 3
    assert all(figure.seconds > 0 and figure.count == 1 for figure in figures)
    assert sanitize.report(figures).count("x baseline") == len(figures)


def test_the_benchmark_newsletter_is_newsletter_sized() -> None:
    assert 40_000 < len(sanitize.newsletter_html(30)) < 100_000
