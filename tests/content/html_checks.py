"""Checks on sanitised HTML, made the way a browser would see it: by parsing it again.

Independent of the sanitiser's own rules on purpose: the forbidden lists here are written out,
not imported, so a careless change to rules.py fails these checks instead of moving them.
"""

import html
import re
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - walks html5lib's trees, parses no XML

import tinycss2
from bleach import html5lib_shim

FORBIDDEN_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
        "input", "button", "select", "option", "textarea", "base", "meta", "link", "svg",
        "math", "template", "noscript", "title", "head", "param", "isindex", "image", "xmp",
        "plaintext", "noembed", "noframes", "video", "audio", "source",
    }
)  # fmt: skip
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "srcdoc", "formaction", "action", "xmlns", "id", "name", "class", "srcset",
        "background", "poster", "data", "codebase", "dynsrc", "lowsrc", "ping", "usemap",
        "http-equiv", "xlink:href",
    }
)  # fmt: skip
# Attributes a browser reads as a URL (most are forbidden outright as well). Others, like
# title, are text: "javascript:" in them is words, not code.
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "cite", "longdesc", "background", "action", "formaction", "poster",
        "data", "codebase", "srcset", "dynsrc", "lowsrc", "usemap", "ping", "xlink:href",
        "manifest", "classid", "archive", "icon", "profile", "itemtype",
    }
)  # fmt: skip
SAFE_SCHEMES = ("http:", "https:", "mailto:")
SAFE_DATA_IMAGE = re.compile(r"data:image/(png|gif|jpe?g|webp);base64,")
CID_PREFIX = "/cid/"  # what the tests' cid_url returns
FORBIDDEN_CSS = ("url(", "expression", "behavior", "binding", "@import", "\\", "image-set")
FORBIDDEN_CSS_PROPERTIES = frozenset({"z-index", "behavior", "-moz-binding", "top", "left"})
ESCAPING_POSITIONS = frozenset({"fixed", "absolute", "sticky"})
# Payload text in the hostile corpus: none of it may end up visible.
CODE_IN_TEXT = ("alert(", "<script", "url(", "expression(", "@import", "{")

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\xa0\u200b-\u200f\u2028-\u202e\ufeff]+")


def reparse(markup: str, *, document: bool = False) -> ET.Element:
    """The tree a browser builds from `markup` inside a page's body (or as a whole page)."""
    parser = html5lib_shim.HTMLParser(namespaceHTMLElements=False)
    return parser.parse(markup) if document else parser.parseFragment(markup)


def elements(root: ET.Element) -> list[ET.Element]:
    return [node for node in root.iter() if node is not root]


def visible_text(markup: str) -> str:
    return "".join(reparse(markup).itertext())


def problems(markup: str, *, document: bool = False) -> list[str]:
    """Everything unsafe in `markup`, described; empty when it is safe to show."""
    found = []
    for node in elements(reparse(markup, document=document)):
        if not isinstance(node.tag, str):
            found.append(f"comment {node.text!r}")
            continue
        if node.tag.startswith("{") or node.tag in FORBIDDEN_TAGS:
            found.append(f"element <{node.tag}>")
        for name, value in node.attrib.items():
            found += [
                f"<{node.tag} {name}={value!r}>: {p}" for p in _attribute_problems(name, value)
            ]
    return found


def _attribute_problems(name: str, value: str) -> list[str]:
    bare = name.rsplit("}", 1)[-1].lower()
    if bare.startswith("on"):
        return ["event handler"]
    if bare in FORBIDDEN_ATTRIBUTES or name.startswith("{"):
        return ["forbidden attribute"]
    if bare == "style":
        return _style_problems(value)
    if bare not in URL_ATTRIBUTES:
        return []
    compact = _INVISIBLE.sub("", html.unescape(value)).lower()
    if re.search(r"(java|vb|live)script:|mocha:", compact):
        return ["script URL"]
    if not _url_allowed(compact):
        return ["URL scheme not allowed"]
    return []


def _url_allowed(url: str) -> bool:
    return url.startswith((*SAFE_SCHEMES, CID_PREFIX)) or bool(SAFE_DATA_IMAGE.match(url))


def _style_problems(style: str) -> list[str]:
    # As old IE read it: comments gone, full-width letters folded.
    folded = unicodedata.normalize("NFKC", _CSS_COMMENT.sub("", style)).lower()
    found = [f"css {word!r}" for word in FORBIDDEN_CSS if word in folded]
    for node in tinycss2.parse_declaration_list(style, skip_comments=True, skip_whitespace=True):
        if node.type != "declaration":
            found.append(f"css {node.type}")
            continue
        value = tinycss2.serialize(node.value).strip().lower()
        if node.lower_name in FORBIDDEN_CSS_PROPERTIES:
            found.append(f"css property {node.lower_name}")
        if node.lower_name == "position" and value in ESCAPING_POSITIONS:
            found.append(f"css position: {value}")
        if any(token.type == "url" for token in node.value):
            found.append("css url token")
    return found


def code_in_text(markup: str) -> list[str]:
    text = visible_text(markup)
    return [code for code in CODE_IN_TEXT if code in text]
