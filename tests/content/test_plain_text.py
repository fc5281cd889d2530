"""Plain-text mail as HTML: escaped, lines kept, links clickable and safe."""

from mailbox.content.plain import text_to_html
from tests.content.html_checks import elements, problems, reparse, visible_text


def links(html: str) -> list[dict[str, str]]:
    return [dict(node.attrib) for node in elements(reparse(html)) if node.tag == "a"]


def test_markup_in_text_stays_text() -> None:
    html = text_to_html('Look: <script>alert(1)</script> & <b onclick="x">bold</b>')

    assert [node.tag for node in elements(reparse(html))] == ["div"]
    assert visible_text(html) == 'Look: <script>alert(1)</script> & <b onclick="x">bold</b>'
    assert problems(html) == []


def test_line_breaks_and_spaces_are_kept() -> None:
    html = text_to_html("one\ntwo\r\n\nfour    spaced")

    assert html.count("<br>") == 3
    assert "four    spaced" in html
    assert html.startswith('<div style="white-space: pre-wrap')


def test_web_and_mail_addresses_become_links_in_a_new_tab() -> None:
    html = text_to_html("See https://example.com/a?b=1&c=2, www.example.org or bob@example.com.")

    assert links(html) == [
        {"href": "https://example.com/a?b=1&c=2", "target": "_blank", "rel": "noopener noreferrer"},
        {"href": "http://www.example.org", "target": "_blank", "rel": "noopener noreferrer"},
        {"href": "mailto:bob@example.com", "target": "_blank", "rel": "noopener noreferrer"},
    ]


def test_newer_top_level_domains_are_linked() -> None:
    assert [link["href"] for link in links(text_to_html("https://docs.example.dev/x"))] == [
        "https://docs.example.dev/x"
    ]


def test_script_urls_are_not_linked() -> None:
    html = text_to_html("javascript:alert(1) vbscript:x data:text/html,<script>x</script>")

    assert links(html) == []
    assert problems(html) == []


def test_a_quote_in_a_url_does_not_open_an_attribute() -> None:
    html = text_to_html('https://example.com/"onmouseover="alert(1)')

    assert problems(html) == []
    assert [link["href"] for link in links(html)] == ["https://example.com/"]


def test_quoted_lines_become_nested_blockquotes() -> None:
    html = text_to_html("Sure.\n> Can we meet?\n> > On Monday?\n> Or later\nBen")

    root = reparse(html)
    quotes = [node for node in elements(root) if node.tag == "blockquote"]
    assert len(quotes) == 2
    assert "".join(quotes[0].itertext()) == "Can we meet?On Monday?Or later"
    assert "".join(quotes[1].itertext()) == "On Monday?"
    assert visible_text(html) == "Sure.Can we meet?On Monday?Or laterBen"


def test_empty_text() -> None:
    assert visible_text(text_to_html("")) == ""
