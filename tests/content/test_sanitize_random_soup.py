"""Property test over seeded random tag soup: nothing executable survives a re-parse."""

from mailbox.content import sanitize_html
from tests.content.html_checks import problems
from tests.content.soup import random_soup

SOUPS = 600


def cid_url(content_id: str) -> str:
    return f"/cid/{content_id}"


def test_random_soups_never_yield_handlers_or_script_urls() -> None:
    failures = []
    for seed in range(SOUPS):
        source = random_soup(seed)
        result = sanitize_html(source, cid_url=cid_url)
        for name, output in (("blocked", result.blocked), ("with_images", result.with_images)):
            if found := problems(output):
                failures.append((seed, name, source, found))
    assert failures == []


def test_the_soups_are_hostile() -> None:
    # The property above is only worth something if the inputs break it when unsanitised.
    hostile = sum(1 for seed in range(SOUPS) if problems(random_soup(seed)))
    assert hostile > SOUPS * 0.8
