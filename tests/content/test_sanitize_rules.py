"""Single rules of the sanitiser, one behaviour per test."""

from html import escape

import pytest

from mailbox.content import sanitize_html
from mailbox.content.sanitize import MAX_DEPTH
from mailbox.content.urls import MAX_DATA_URL_CHARS
from tests.content.html_checks import elements, problems, reparse

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"


def clean(html: str) -> str:
    result = sanitize_html(html, cid_url=lambda content_id: f"/cid/{content_id}")
    assert problems(result.blocked) == problems(result.with_images) == []
    return result.blocked


def shown(html: str) -> str:
    return sanitize_html(html, cid_url=lambda content_id: None).with_images


@pytest.mark.parametrize(
    ("href", "kept"),
    [
        ("https://example.com/a?b=1&amp;c=2", "https://example.com/a?b=1&amp;c=2"),
        ("  HTTP://Example.com/\n", "HTTP://Example.com/"),
        ("ht\ntps://example.com/", "https://example.com/"),
        ("//example.com/x", "https://example.com/x"),
        ("mailto:someone@example.com?subject=Hi", "mailto:someone@example.com?subject=Hi"),
        ("https:example.com", None),  # no host
        ("/relative/path", None),  # would resolve against our own site
        ("#anchor", None),
        ("ftp://example.com/file", None),
        ("cid:part1", None),
        ("tel:+123", None),
    ],
)
def test_link_schemes(href: str, kept: str | None) -> None:
    html = clean(f'<a href="{href}">x</a>')
    if kept is None:
        assert html == "<a>x</a>"
    else:
        assert html == f'<a href="{kept}" target="_blank" rel="noopener noreferrer">x</a>'


def test_a_links_own_target_and_rel_are_replaced() -> None:
    html = clean('<a href="https://e.example/" target="_top" rel="opener" ping="/p">x</a>')
    assert html == '<a href="https://e.example/" target="_blank" rel="noopener noreferrer">x</a>'


def test_cid_images_go_through_cid_url() -> None:
    assert (
        clean('<img src="cid:part1.abc%40example.com">') == '<img src="/cid/part1.abc@example.com">'
    )
    assert clean('<img src="CID:&lt;x@y&gt;">') == '<img src="/cid/x@y">'
    assert shown('<img src="cid:unknown" alt="a">') == '<img alt="a">'  # cid_url said None


def test_small_data_images_stay_in_both_results() -> None:
    result = sanitize_html(f'<img src="{PNG}">', cid_url=str)
    assert result.blocked == result.with_images == f'<img src="{PNG}">'
    assert not result.has_remote_images


@pytest.mark.parametrize(
    "src",
    [
        "data:image/svg+xml;base64,PHN2Zz4=",
        "data:text/html;base64,PHNjcmlwdD4=",
        "data:image/png,notbase64<>",
        PNG + "A" * MAX_DATA_URL_CHARS,
    ],
)
def test_other_data_urls_are_dropped(src: str) -> None:
    assert clean(f'<img src="{src}">') == "<img>"


def test_remote_images_are_only_in_with_images() -> None:
    result = sanitize_html('<img src="//t.example/p.gif" width="1">', cid_url=str)
    assert result.has_remote_images
    assert result.blocked == '<img width="1">'
    assert result.with_images == (
        '<img width="1" src="https://t.example/p.gif" referrerpolicy="no-referrer">'
    )


@pytest.mark.parametrize(
    ("style", "kept"),
    [
        (
            "color: red; font-family: 'Open Sans', Arial",
            'color: red; font-family: "Open Sans", Arial',
        ),
        ("COLOR: Red !important", "color: Red !important"),
        (
            "color: rgb(1, 2, 3); border: 1px solid #ccc",
            "color: rgb(1, 2, 3); border: 1px solid #ccc",
        ),
        ("background: #000 url(https://t.example/bg.png) no-repeat", "background: #000 no-repeat"),
        ("background-image: url(https://t.example/bg.png)", ""),
        ("position: relative; position: fixed; position: absolute", "position: relative"),
        ("display: none; display: -webkit-box", "display: none"),
        ("top: 0; left: 0; z-index: 9; transform: scale(9)", ""),
        ("width: calc(100% - 2px); color: var(--x)", ""),
        ("width: 100px; behavior: url(x.htc); -moz-binding: url(x)", "width: 100px"),
        ("color: r\\65 d", "color: red"),  # escapes are decoded, then checked and written plainly
        ("font-family: 'a\\\"b'", ""),  # a value that needs an escape to be written back
        ("margin: 0 auto; padding: 10px 20px", "margin: 0 auto; padding: 10px 20px"),
    ],
)
def test_inline_css(style: str, kept: str) -> None:
    nodes = elements(reparse(clean(f'<div style="{escape(style)}">x</div>')))
    assert nodes[0].get("style", "") == kept


def test_attributes_are_allowlisted_per_tag() -> None:
    html = clean(
        '<td colspan="2" id="x" class="y" name="z" data-x="1" onclick="x">a</td>'
        '<table width="600" cellpadding="0" align="center" nonsense="1"><tr><td>b</td></tr></table>'
        '<font color="red" face="Arial" size="2">c</font>'
    )
    assert html == (
        'a<table width="600" cellpadding="0" align="center"><tbody><tr><td>b</td></tr></tbody>'
        '</table><font color="red" face="Arial" size="2">c</font>'
    )


def test_attribute_values_never_hold_a_raw_angle_bracket() -> None:
    html = clean('<img alt="</noscript><img src=x onerror=alert(1)>">')
    assert html == '<img alt="&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;">'


def test_unknown_elements_are_unwrapped_and_dropped_ones_vanish_whole() -> None:
    assert clean("<custom>a <label>b</label></custom><object>c</object>d") == "a bd"


def test_blocks_in_a_paragraph_make_it_a_div() -> None:
    # The parser allows a <div> inside <p> through <marquee>; unwrapped, it would re-nest.
    assert clean("<p>a<marquee><div>b</div></marquee></p>") == "<div>a<div>b</div></div>"
    assert clean('<a href="https://a.example/">a<marquee><a href="https://b.example/">b</a>') == (
        '<a href="https://a.example/" target="_blank" rel="noopener noreferrer">ab</a>'
    )


def test_pre_keeps_a_leading_blank_line() -> None:
    assert clean("<pre>\n\nx</pre>") == "<pre>\n\nx</pre>"


def test_body_colours_move_to_a_wrapper() -> None:
    html = clean('<body bgcolor="#eee" style="color: #333; position: fixed">x</body>')
    assert html == '<div style="background-color: #eee; color: #333">x</div>'


def test_deep_nesting_is_flattened_not_fatal() -> None:
    html = clean("<div>" * 600 + "<script>alert(1)</script>deep")
    depth, node = 0, reparse(html)
    while len(node):
        node, depth = node[0], depth + 1
    assert depth == MAX_DEPTH
    assert html.endswith("deep" + "</div>" * MAX_DEPTH)


def test_a_frameset_page_shows_nothing() -> None:
    assert clean('<frameset><frame src="https://e.example/"></frameset>') == ""


def test_markup_that_crashes_html5lib_is_shown_as_text() -> None:
    # html5lib-python issue #568: AttributeError in the tree builder, page and fragment alike.
    result = sanitize_html(
        "<p>Hi https://example.com/x</p><script>alert(1)</script>)<a><math><TR><a><mI><a><p><a>",
        cid_url=str,
    )
    assert result.blocked == result.with_images
    assert ">alert(" not in result.blocked
    assert 'Hi <a href="https://example.com/x" target="_blank"' in result.blocked
    assert problems(result.blocked) == []


def test_empty_input() -> None:
    assert sanitize_html("", cid_url=str).blocked == ""
