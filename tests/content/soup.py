"""Random tag soup for property tests, seeded (hypothesis is not installed here).

Pieces are drawn from what attacks are made of: dangerous and harmless tags, event handlers,
URL attributes with encoded schemes, broken quotes, comments, CDATA, raw-text elements.
"""

import random

TAGS = [
    "a", "img", "div", "p", "span", "table", "tr", "td", "b", "font", "pre", "style",
    "script", "svg", "math", "mglyph", "mtext", "template", "noscript", "iframe", "form",
    "input", "textarea", "title", "xmp", "select", "option", "object", "embed", "base",
    "meta", "link", "details", "image", "foreignObject", "desc", "annotation-xml",
    "noembed", "listing", "plaintext", "body", "html", "head", "frameset", "custom",
    "h1", "h2", "li", "ul", "dd", "caption", "marquee", "button", "center", "blockquote",
    "i", "em", "nobr", "code", "dl", "dt", "hr", "br", "thead", "tbody", "col", "colgroup",
    "th", "q", "address", "section", "ol", "s", "u", "applet", "label", "fieldset",
]  # fmt: skip
ATTRIBUTES = [
    "href", "src", "style", "onerror", "onload", "onclick", "ONMOUSEOVER", "srcdoc",
    "formaction", "xlink:href", "xmlns", "id", "name", "title", "alt", "background",
    "srcset", "action", "data", "values", "encoding", "width", "bgcolor", "on", "onx",
]  # fmt: skip
VALUES = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "jav&#x09;ascript:alert(1)",
    "jav\tascript:alert(1)", "&#106;avascript:alert(1)", "java&NewLine;script:alert(1)",
    " \x01javascript:alert(1)", "javascript&colon;alert(1)", "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>", "https://ok.example/x", "cid:part1",
    "x", "", "alert(1)", "width: expression(alert(1))", "background: url(javascript:x)",
    "position: fixed", "color: red", "text/html", '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>", "</style><img src=x onerror=alert(1)>",
]  # fmt: skip
FRAGMENTS = [
    "text ", "<!--", "-->", "<![CDATA[", "]]>", "<", ">", '"', "'", "&", "&lt;",
    "</", "/>", "=", "\n", "<!doctype html>", "<?xml x?>", "<!-- --!>",
]  # fmt: skip


def _attribute(rng: random.Random) -> str:
    name, value = rng.choice(ATTRIBUTES), rng.choice(VALUES)
    quote = rng.choice(['"', "'", ""])
    if not quote:
        value = value.replace(" ", "")
    return f" {name}={quote}{value}{quote}"


def _piece(rng: random.Random) -> str:
    roll = rng.random()
    tag = rng.choice(TAGS)
    if roll < 0.45:
        attributes = "".join(_attribute(rng) for _ in range(rng.randint(0, 3)))
        return f"<{tag}{attributes}{rng.choice(['', '/'])}>"
    if roll < 0.65:
        return f"</{tag}>"
    return rng.choice(FRAGMENTS)


def random_soup(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(_piece(rng) for _ in range(rng.randint(5, 40)))
