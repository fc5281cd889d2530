"""The text of HTML that html5lib's tree builder cannot parse.

html5lib 1.1 (the copy inside bleach) crashes with AssertionError or AttributeError on some
malformed markup, e.g. `<table><svg><html>` (html5lib-python issue #568, unfixed). sanitize.py
then tries a fragment parse; if that fails too, the mail is shown as its text, made here
without a tree: html5lib's tokenizer alone, switched into raw-text states where the tree
builder would switch it (so script and style code is recognised as such and skipped), block
boundaries kept as line breaks. The text then takes the plain-text path.
"""

import re

from bleach._vendor.html5lib._tokenizer import HTMLTokenizer

_RAW_TEXT_STATES = {
    "script": "scriptDataState",
    "style": "rawtextState",
    "xmp": "rawtextState",
    "iframe": "rawtextState",
    "noembed": "rawtextState",
    "noframes": "rawtextState",
    "noscript": "rawtextState",
    "title": "rcdataState",
    "textarea": "rcdataState",
    "plaintext": "plaintextState",
}
_LINE_BREAKS = frozenset(
    {
        "br", "p", "div", "tr", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "table", "hr", "ul", "ol",
    }
)  # fmt: skip
_CHARACTERS, _SPACE, _START, _END, _EMPTY = 1, 2, 3, 4, 5  # html5lib's token types
_SPACES = re.compile(r"[ \t\r\f\n]+")
_SPACES_AROUND_BREAKS = re.compile(r" *\n[ \n]*")


def html_as_text(html: str) -> str:
    """The visible text of `html`, without code, comments or markup."""
    tokenizer = HTMLTokenizer(html)
    parts: list[str] = []
    in_raw_text = False
    for token in tokenizer:
        kind = token["type"]
        if kind in (_CHARACTERS, _SPACE):
            if not in_raw_text:
                parts.append(_SPACES.sub(" ", token["data"]))  # as a browser collapses them
        elif kind in (_START, _EMPTY, _END):
            name = token["name"].lower()
            in_raw_text = kind == _START and name in _RAW_TEXT_STATES
            if in_raw_text:
                tokenizer.state = getattr(tokenizer, _RAW_TEXT_STATES[name])
            elif name in _LINE_BREAKS:
                parts.append("\n")
    return _SPACES_AROUND_BREAKS.sub("\n", "".join(parts)).strip()
