"""Benign mail keeps its look: tables, inline styles, links, inline and remote images."""

from pathlib import Path

import pytest

from mailbox.content import SANITIZER_VERSION, SanitizedHtml, sanitize_html
from tests.content.html_checks import elements, problems, reparse, visible_text

BENIGN = Path(__file__).resolve().parents[1] / "fixtures" / "html" / "benign"


def cid_url(content_id: str) -> str:
    return f"/cid/{content_id}"


@pytest.fixture(scope="module")
def newsletter() -> SanitizedHtml:
    return sanitize_html((BENIGN / "newsletter.html").read_text(), cid_url=cid_url)


def tags(markup: str) -> list[str]:
    return [node.tag for node in elements(reparse(markup))]


def images(markup: str) -> list[dict[str, str]]:
    return [dict(node.attrib) for node in elements(reparse(markup)) if node.tag == "img"]


def test_it_keeps_the_tables_and_text(newsletter: SanitizedHtml) -> None:
    assert tags(newsletter.blocked).count("table") == 3
    assert tags(newsletter.blocked).count("td") == 5
    text = " ".join(visible_text(newsletter.blocked).split())
    assert "Hello, Anna" in text
    assert "New bike lanes open on Main Street" in text
    assert "body { margin" not in text  # the <style> block went whole


def test_it_keeps_colours_fonts_and_spacing(newsletter: SanitizedHtml) -> None:
    html = newsletter.blocked
    # <body>'s bgcolor, then its style (which wins, as it would in a browser), on a div.
    assert html.startswith(
        '<div style="background-color: #f4f4f4; margin: 0; padding: 0; background-color: #f4f4f4">'
    )
    assert "color: #d93025; font-weight: bold" in html
    assert "font-family: Georgia, &quot;Times New Roman&quot;, serif" in html
    assert 'bgcolor="#1a73e8"' in html
    assert '<font face="Arial" color="#bbbbbb">' in html
    assert "display: none; max-height: 0px; overflow: hidden" in html  # the preheader stays hidden
    # The footer's colour survives; its remote background image does not.
    assert "background: #222222 repeat-x" in html
    assert "footer-bg.png" not in newsletter.with_images


def test_links_open_in_a_new_tab_without_referrer(newsletter: SanitizedHtml) -> None:
    links = [node.attrib for node in elements(reparse(newsletter.blocked)) if node.tag == "a"]
    assert [link["href"] for link in links] == [
        "https://digest.example/r/abc123?utm_source=mail&utm_medium=email",
        "https://digest.example/unsubscribe?u=abc123",
        "mailto:editor@digest.example",
    ]
    assert all(link["target"] == "_blank" for link in links)
    assert all(link["rel"] == "noopener noreferrer" for link in links)


def test_remote_images_only_in_with_images(newsletter: SanitizedHtml) -> None:
    assert newsletter.has_remote_images
    assert "cdn.digest.example" not in newsletter.blocked
    assert "track.digest.example" not in newsletter.blocked
    blocked, shown = images(newsletter.blocked), images(newsletter.with_images)
    assert [image.get("src") for image in blocked] == ["/cid/logo@digest.example", None, None]
    assert [image.get("src") for image in shown] == [
        "/cid/logo@digest.example",
        "https://cdn.digest.example/hero.jpg",
        "https://track.digest.example/open.gif?u=abc123",
    ]
    assert [image.get("referrerpolicy") for image in shown] == [None, "no-referrer", "no-referrer"]
    # A blocked image keeps its box, so the layout does not jump when images are shown.
    assert blocked[1] == {"alt": "This week", "width": "540", "style": shown[1]["style"]}


def test_both_results_are_safe(newsletter: SanitizedHtml) -> None:
    assert problems(newsletter.blocked) == []
    assert problems(newsletter.with_images) == []
    assert newsletter.version == SANITIZER_VERSION


def test_a_personal_reply_without_remote_images() -> None:
    result = sanitize_html((BENIGN / "personal_reply.html").read_text(), cid_url=cid_url)

    assert not result.has_remote_images
    assert result.blocked == result.with_images
    sources = [image.get("src", "") for image in images(result.blocked)]
    assert sources[0] == "/cid/ii_chart01"
    assert sources[1].startswith("data:image/png;base64,iVBOR")
    assert "border-left: 1px solid rgb(204,204,204)" in result.blocked
    assert "<pre>  code   block\n    indented</pre>" in result.blocked
    assert 'class="gmail_quote"' not in result.blocked  # no class, no id: nothing to clobber


def test_script_and_style_leave_no_visible_code() -> None:
    result = sanitize_html(
        "<style>p { color: red }</style>Hello<script>alert(1)</script> there", cid_url=cid_url
    )

    assert visible_text(result.blocked) == "Hello there"
    assert result.blocked == "Hello there"
