"""What a person writes in the rich editor, made safe to send, and its plain-text twin.

The browser posts whatever the editor holds (or anything a forged request puts there), and a
reply quotes someone else's mail: the HTML we send must be the small subset the editor
makes, nothing the recipient's client would load or run. Same shape as sanitize.py: one
html5lib parse (as a fragment: the editor holds a body's content), one pass over the tree
that copies what may stay into a new tree, one serialisation (serialize.py). Nothing edits
the result as a string.

The rules, stricter than those for reading mail (rules.py): only the elements below; no
attribute but a link's href (http, https or mailto, checked by urls.link_href) with a `rel`
of our own; no style, class or id; no images at all, so nothing we send loads from anywhere
(a quoted mail's remote and inline images go too). Script, style, forms, frames, media and
foreign content (svg, math) go with everything inside them; other elements are unwrapped,
their text kept; layout elements (tables, sections) become plain blocks. b, i, s and strike
are written as strong, em and del. Elements are placed only where a parser would put them
again (nesting.py), so sanitising the result again changes nothing.

`compose_text` is the text/plain alternative of the same tree: links as "text <url>",
quotes as "> ", list items as "- " (or "1. "), blocks on their own lines.
"""

import re
import xml.etree.ElementTree as ET  # noqa: S405 - builds trees, never parses XML
from collections.abc import Iterator
from dataclasses import dataclass

from bleach import html5lib_shim

from mailbox.content.compose_text import tree_to_text
from mailbox.content.fallback import html_as_text
from mailbox.content.nesting import fit
from mailbox.content.rules import DROPPED_TAGS
from mailbox.content.sanitize import MAX_DEPTH
from mailbox.content.serialize import tree_to_html
from mailbox.content.urls import link_href

KEPT = frozenset(
    {
        "p", "div", "br", "strong", "em", "u", "del", "ul", "ol", "li", "a", "blockquote",
        "pre", "code", "h1", "h2", "h3",
    }
)  # fmt: skip
RENAMED = {
    "b": "strong", "i": "em", "s": "del", "strike": "del", "h4": "h3", "h5": "h3", "h6": "h3",
    # Layout becomes plain blocks, so a quoted newsletter keeps its lines apart.
    "table": "div", "tr": "div", "caption": "div", "center": "div", "section": "div",
    "article": "div", "header": "div", "footer": "div", "main": "div", "nav": "div",
    "aside": "div", "address": "div", "figure": "div", "figcaption": "div", "dl": "div",
    "dt": "div", "dd": "div", "details": "div", "summary": "div", "td": "div", "th": "div",
}  # fmt: skip
# Gone with what they hold: the reading sanitiser's list, and images, which we never send.
DROPPED = DROPPED_TAGS | {"img", "picture", "image", "hr"}
LINK_REL = "noopener noreferrer"
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ComposedHtml:
    html: str  # safe to send and to put in the editor
    text: str  # the text/plain alternative


def sanitize_compose_html(html: str) -> str:
    """The safe HTML of what the editor posted (or of a quoted mail)."""
    return tree_to_html(compose_tree(html))


def compose_html_and_text(html: str) -> ComposedHtml:
    """Both alternatives of the message body, from one parse."""
    tree = compose_tree(html)
    return ComposedHtml(html=tree_to_html(tree), text=tree_to_text(tree))


def compose_tree(html: str) -> ET.Element:
    """A fragment root holding only what may be sent; never raises for a str."""
    root = ET.Element("DOCUMENT_FRAGMENT")
    try:
        source = html5lib_shim.HTMLParser(namespaceHTMLElements=False).parseFragment(html)
    except Exception:  # html5lib's known crashes (fallback.py): keep the text only
        for number, line in enumerate(html_as_text(html).split("\n")):
            if number:
                ET.SubElement(root, "br")
            _append_text(root, line)
        return root
    _copy(source, root)
    return root


def _copy(source: ET.Element, target: ET.Element) -> None:
    """Depth first without recursion: hostile input can nest deeper than Python's stack."""
    _append_text(target, source.text)
    # Each entry: children left to visit, where they go (with its open output elements,
    # outermost first), and the tail that follows them.
    stack: list[tuple[Iterator[ET.Element], list[ET.Element], str | None]] = [
        (iter(source), [target], None)
    ]
    while stack:
        children, into, tail = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if stack:
                _append_text(stack[-1][1][-1], tail)
            continue
        inner = _open(child, into, too_deep=len(stack) > MAX_DEPTH)
        if inner is None:
            _append_text(into[-1], child.tail)
            continue
        _append_text(inner[-1], child.text)
        stack.append((iter(child), inner, child.tail))


def _open(node: ET.Element, into: list[ET.Element], too_deep: bool) -> list[ET.Element] | None:
    """The open elements the node's children go into: with a copy of it, or without it
    (unwrapped); None when it goes with its content."""
    tag = node.tag
    # Comments (their tag is a function) and foreign content ("{namespace}name") go too.
    if not isinstance(tag, str) or tag[0] == "{" or tag in DROPPED:
        return None
    tag = RENAMED.get(tag, tag)
    if too_deep or tag not in KEPT:
        return into
    placement = fit(tag, [element.tag for element in into[1:]])
    if placement.tag is None:
        return into
    if placement.p_to_div is not None:
        into[1 + placement.p_to_div].tag = "div"
    attrs = {}
    if placement.tag == "a":
        href = link_href(node.get("href", ""))
        if href is None:
            return into  # no link we would send: its text stays
        attrs = {"href": _CONTROL_CHARACTERS.sub("", href), "rel": LINK_REL}
    element = ET.SubElement(into[-1], placement.tag, attrs)
    return None if element.tag == "br" else [*into, element]


def _append_text(node: ET.Element, text: str | None) -> None:
    if not text:
        return
    text = _CONTROL_CHARACTERS.sub("", text)
    if node.tag == "br":  # a <br> holds nothing: what it would hold follows it
        node.tail = (node.tail or "") + text
    elif len(node):
        last = node[-1]
        last.tail = (last.tail or "") + text
    elif node.text is None and node.tag == "pre" and text.startswith("\n"):
        # The parser drops a newline right after <pre>: double it so it survives a re-parse.
        node.text = "\n" + text
    else:
        node.text = (node.text or "") + text
