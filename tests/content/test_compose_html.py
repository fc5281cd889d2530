"""The compose sanitiser (issue 6, points 1 and 2): what the rich editor posts, or a quoted mail,
comes out as the few elements a message needs, nothing that runs or loads, the same when
sanitised again; and its text/plain twin reads as mail clients write plain text."""

from pathlib import Path

import pytest

from mailbox.content.compose_html import compose_html_and_text, sanitize_compose_html
from tests.content.html_checks import code_in_text, elements, problems, reparse

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "html" / "hostile"
CORPUS = sorted(HOSTILE.glob("*.html"))
# Written out, not imported: a change to the sanitiser's list must fail here.
SENDABLE = frozenset(
    {"p", "div", "br", "strong", "em", "u", "del", "ul", "ol", "li", "a", "blockquote", "pre",
     "code", "h1", "h2", "h3"}
)  # fmt: skip


def off_the_list(markup: str) -> list[str]:
    """Every element or attribute the compose rules do not allow, as a browser parses it."""
    found = []
    for node in elements(reparse(markup)):
        if not isinstance(node.tag, str) or node.tag not in SENDABLE:
            found.append(f"element {node.tag!r}")
            continue
        allowed = {"href", "rel"} if node.tag == "a" else set()
        found += [f"<{node.tag} {name}>" for name in node.attrib if name not in allowed]
    return found


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_the_hostile_corpus_leaves_only_sendable_markup(path: Path) -> None:
    result = sanitize_compose_html(path.read_text())

    assert problems(result) == []
    assert off_the_list(result) == []
    assert code_in_text(result) == []
    assert sanitize_compose_html(result) == result  # a second pass changes nothing


@pytest.mark.parametrize(
    "hostile",
    [
        '<script>alert("x")</script>',
        "<SCRIPT SRC=https://evil.test/x.js></SCRIPT>",
        '<p onclick="alert(1)" onmouseover=alert(2)>',
        '<a href="javascript:alert(1)">',
        '<a href="jav&#x09;ascript:alert(1)">',
        '<a href="&#106;avascript:alert(1)">',
        '<a href=" JaVaScRiPt:alert(1)">',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
        '<a href="vbscript:msgbox(1)">',
        '<p style="background:url(https://evil.test/t.png)">',
        "<style>p { background: url(https://evil.test/t.png) }</style>",
        '<iframe src="https://evil.test/"></iframe>',
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        '<svg onload="alert(1)"><a href="javascript:alert(1)"><text>x</text></a></svg>',
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
        '<img src="https://evil.test/track.gif">',
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
        '<img src=x onerror="alert(1)">',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<form action="https://evil.test/"><input name="password"><button>Go</button></form>',
        '<object data="https://evil.test/x.swf"></object><embed src="https://evil.test/x">',
        '<base href="https://evil.test/"><meta http-equiv="refresh" content="0;https://evil">',
        '<link rel="stylesheet" href="https://evil.test/x.css">',
        '<p id="compose-form" class="x" name="y" title="t" dir="rtl">',
        "<!--<script>alert(1)</script>-->",
        '<template><img src=x onerror="alert(1)"></template>',
        '<video poster="https://evil.test/p.png"><source src="https://evil.test/v"></video>',
        '<table background="https://evil.test/b.png"><tr><td style="x:expression(alert(1))">',
    ],
)
def test_hostile_input_is_disarmed(hostile: str) -> None:
    result = sanitize_compose_html(f"<div>before</div>{hostile}<div>after</div>")

    assert problems(result) == []
    assert off_the_list(result) == []
    assert code_in_text(result) == []
    for word in ("evil.test", "alert", "onerror", "javascript", "style", "src="):
        assert word not in result.lower(), word
    assert result.startswith("<div>before</div>")  # what comes after may be inside the attack
    assert sanitize_compose_html(result) == result


def test_split_tags_stay_text() -> None:
    result = sanitize_compose_html("<scr<script>ipt>alert(1)</scr</script>ipt><<b>script>x")

    assert off_the_list(result) == [] and problems(result) == []
    assert result == "ipt&gt;alert(1)ipt&gt;&lt;<strong>script&gt;x</strong>"


def test_the_formatting_a_message_needs_is_kept() -> None:
    written = (
        "<div>Hi <b>Bob</b>, <i>quickly</i>: <u>read</u> <s>this</s> <strike>that</strike>"
        "</div><p>A <strong>strong</strong> <em>point</em> with <code>code</code>.</p>"
        "<h1>Big</h1><h2>Less</h2><h5>Small</h5><pre>  keep   spaces</pre>"
        "<ul><li>one</li><li>two<ol><li>inner</li></ol></li></ul>"
        '<blockquote>quoted<br>line</blockquote><a href="https://example.com/a?b=1&amp;c=2">'
        'a link</a> <a href="mailto:bob@example.test">Bob</a>'
    )

    assert sanitize_compose_html(written) == (
        "<div>Hi <strong>Bob</strong>, <em>quickly</em>: <u>read</u> <del>this</del> "
        "<del>that</del></div><p>A <strong>strong</strong> <em>point</em> with <code>code"
        "</code>.</p><h1>Big</h1><h2>Less</h2><h3>Small</h3><pre>  keep   spaces</pre>"
        "<ul><li>one</li><li>two<ol><li>inner</li></ol></li></ul>"
        "<blockquote>quoted<br>line</blockquote>"
        '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">a link</a> '
        '<a href="mailto:bob@example.test" rel="noopener noreferrer">Bob</a>'
    )


def test_unknown_elements_keep_their_text_and_layout_becomes_lines() -> None:
    result = sanitize_compose_html(
        "<span>Hello</span> <font color=red>there</font>"
        "<table><tr><td>Name</td><td>Ann</td></tr></table><marquee>moving</marquee>"
    )

    assert result == ("Hello there<div><div><div>Name</div><div>Ann</div></div></div>moving")


@pytest.mark.parametrize(
    "markup",
    [
        "<p>a<div>b</div>c</p>",
        "<a href='https://a.test'>x<a href='https://b.test'>y",
        "<li>one<li>two",
        "<h1>a<h2>b</h2></h1>",
        "<table><p>moved</p></table>",
        "<p><b>open <i>both</p> after",
    ],
)
def test_nesting_a_parser_would_change_is_settled_once(markup: str) -> None:
    result = sanitize_compose_html(markup)

    assert sanitize_compose_html(result) == result


def test_very_deep_nesting_does_not_break_it() -> None:
    result = sanitize_compose_html("<div>" * 5000 + "deep" + "</div>" * 5000)

    assert "deep" in result and sanitize_compose_html(result) == result


def test_the_text_alternative_reads_like_plain_mail() -> None:
    composed = compose_html_and_text(
        "<div>Hi <b>Bob</b>,</div><div><br></div><p>See <a href='https://example.com/x'>the"
        " plan</a> or https://example.com/y, and <a href='mailto:ann@example.test'>"
        "ann@example.test</a>.</p><ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul>"
        "<ol><li>first</li><li>second</li></ol><div>On Monday, Ann wrote:</div>"
        "<blockquote><div>Lunch?</div><blockquote>Earlier</blockquote></blockquote>"
        "<pre>  two  spaces</pre><div>--&nbsp;</div><div>Alice</div>"
    )

    assert composed.text == (
        "Hi Bob,\n"
        "\n"
        "See the plan <https://example.com/x> or https://example.com/y, and ann@example.test.\n"
        "\n"
        "- one\n"
        "- two\n"
        "  - inner\n"
        "1. first\n"
        "2. second\n"
        "On Monday, Ann wrote:\n"
        "> Lunch?\n"
        "> > Earlier\n"
        "\n"
        "  two  spaces\n"
        "\n"
        "-- \n"
        "Alice\n"
    )
    assert "<strong>Bob</strong>" in composed.html


def test_text_only_input_and_nothing_at_all() -> None:
    assert compose_html_and_text("just words & <3").text == "just words & <3\n"
    assert sanitize_compose_html("just words & <3") == "just words &amp; &lt;3"
    assert compose_html_and_text("") == compose_html_and_text("<script>x</script>")
    assert compose_html_and_text("").text == ""
