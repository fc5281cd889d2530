"""The hostile corpus: one attack per file, checked on the re-parsed output of both results."""

from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest

from mailbox.content import sanitize_html
from tests.content.html_checks import CID_PREFIX, code_in_text, problems

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "html" / "hostile"
CORPUS = sorted(HOSTILE.glob("*.html"))


def cid_url(content_id: str) -> str:
    return CID_PREFIX + quote(content_id, safe="")


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_it_leaves_nothing_dangerous(path: Path) -> None:
    result = sanitize_html(path.read_text(), cid_url=cid_url)

    assert problems(result.blocked) == []
    assert problems(result.with_images) == []
    # Removed code must not come back as visible text either.
    assert code_in_text(result.blocked) == []
    assert code_in_text(result.with_images) == []


def test_the_corpus_is_all_there() -> None:
    assert len(CORPUS) >= 60, "the hostile corpus went missing"


def unsanitised_findings(raw: str) -> list[str]:
    found = []
    for check in (problems, partial(problems, document=True), code_in_text):
        try:
            found += check(raw)
        except Exception as error:  # html5lib's known crashes are attacks too (fallback.py)
            found.append(f"parser crash {error!r}")
    return found


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_each_file_holds_an_attack_the_checks_see(path: Path) -> None:
    found = unsanitised_findings(path.read_text())
    assert found, "this file would pass unsanitised: the test above proves nothing for it"


def test_the_checks_catch_what_they_look_for() -> None:
    # Without this, a checker that finds nothing would pass every file above.
    bad = {
        "<script>alert(1)</script>": "element <script>",
        "<img src=x onerror=alert(1)>": "event handler",
        '<a href="jav&#x09;ascript:alert(1)">x</a>': "script URL",
        '<a href="data:text/html,x">x</a>': "URL scheme not allowed",
        '<img src="/pixel.gif">': "URL scheme not allowed",
        "<svg><circle/></svg>": "element <{http://www.w3.org/2000/svg}svg>",
        '<div style="width: expression(alert(1))">x</div>': "css 'expression'",
        '<div style="position: FIXED">x</div>': "css position: fixed",
        '<div style="background: \\75 rl(x)">x</div>': "css url token",
        '<div style="z-index: 9">x</div>': "css property z-index",
        '<iframe srcdoc="x"></iframe>': "element <iframe>",
        '<p id="x">x</p>': "forbidden attribute",
    }
    for markup, expected in bad.items():
        assert any(expected in problem for problem in problems(markup)), markup
    assert code_in_text("<p>alert(1)</p>") == ["alert("]
    assert problems('<a href="https://ok.example/" title="x">x</a><img src="/cid/a">') == []
