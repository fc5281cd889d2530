"""Sanitising a result again changes nothing: the output is a fixed point of the rules."""

from pathlib import Path

import pytest

from mailbox.content import sanitize_html
from tests.content.soup import random_soup

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "html"
FILES = sorted(FIXTURES.glob("*/*.html"))


def cid_url(content_id: str) -> str:
    # Our real URLs are relative to our site, which a mail may not use: mapping cid: to itself
    # is what makes a second pass see the same image, so the rules can be compared.
    return f"cid:{content_id}"


def assert_fixed_point(source: str) -> None:
    first = sanitize_html(source, cid_url=cid_url)
    again_blocked = sanitize_html(first.blocked, cid_url=cid_url)
    again_shown = sanitize_html(first.with_images, cid_url=cid_url)

    assert again_blocked.blocked == first.blocked
    assert again_shown.with_images == first.with_images
    assert again_shown.blocked == first.blocked  # blocking what was shown = blocking at once
    assert again_shown.has_remote_images == first.has_remote_images


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_fixture_results_are_fixed_points(path: Path) -> None:
    assert_fixed_point(path.read_text())


@pytest.mark.parametrize(
    "source",
    [
        "<pre>\n\nstarts with a blank line</pre>",
        "<p>a<custom>b<div>c</div></custom>d</p>",
        "<table><tr><td>a</td><custom>b</custom></tr></table>",
        '<a href="//example.com/x">scheme-relative</a><img src="//example.com/i.png">',
        "text \x01with\x7f controls",
        "<div style=\"color: red !important; font-family: 'A B', serif\">x</div>",
        "<b>" * 400 + "deep",
    ],
)
def test_edge_cases_are_fixed_points(source: str) -> None:
    assert_fixed_point(source)


def test_random_soups_are_fixed_points() -> None:
    for seed in range(300):
        assert_fixed_point(random_soup(seed))
