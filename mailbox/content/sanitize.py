"""Hostile mail HTML in, the only HTML the browser ever receives out.

Shape: one parse, one pass over the tree that builds both results, one serialisation each.

1. Parse with html5lib (the copy bleach ships; it is not installed on its own) into an
   ElementTree, as a browser would parse the mail: entities decoded, tables repaired,
   `<svg>`/`<math>` in their own namespaces, comments and `<head>` separate.
2. Walk that tree once and build two new trees side by side (`_Twin`): `blocked`, where
   nothing loads from the sender's side, and `with_images`, the same plus remote image
   sources for after "Show images". Elements are kept (allowlisted, with allowlisted
   attributes, URLs and CSS values checked), unwrapped (unknown elements: text kept), or
   dropped whole with their text (script, style, forms, frames, foreign content, ...: see
   rules.py). Comments go. Elements are placed only where a parser would put them again
   (nesting.py), so a result read back builds the same tree: sanitising it again changes
   nothing.
3. Write each tree out (serialize.py): text escaped, attribute values double-quoted and
   escaped, `<` and `>` included. Nothing edits the result as a string afterwards.

Why not bleach's Cleaner: it parses, filters a token stream and serialises in one call, so two
results would mean two parses; its tokenizer leaves entities undecoded, so every URL check has
to re-decode them; and its strip mode keeps the text of removed elements, so `<script>` code
would show up as text. Removing whole subtrees, unwrapping and writing two outputs are tree
operations, so this works on the tree that html5lib builds and uses bleach for what it does
well elsewhere (linkify, in plain.py).

Why the output cannot turn into markup the checks did not see: it contains only allowlisted
HTML elements, never a raw-text or RCDATA element (script, style, textarea, title, xmp,
noscript, iframe, noembed, noframes, plaintext), never foreign content or comments, and all
text and attribute values are escaped. A browser that re-parses it cannot create a new element
or attribute from text, and (nesting.py) builds the tree that was written.

html5lib has known crashes on some malformed markup; such a mail is parsed as a fragment, and
failing that shown as plain text (fallback.py). `sanitize_html` does not raise for any str.
"""

import logging
import re
import xml.etree.ElementTree as ET  # noqa: S405 - builds trees, never parses XML
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bleach import html5lib_shim

from mailbox.content.css import sanitize_style
from mailbox.content.fallback import html_as_text
from mailbox.content.nesting import TABLE_CHILDREN, fit
from mailbox.content.plain import text_to_html
from mailbox.content.rules import ALLOWED_TAGS, DROPPED_TAGS, GLOBAL_ATTRIBUTES, TAG_ATTRIBUTES
from mailbox.content.serialize import tree_to_html
from mailbox.content.urls import ImageKind, image_source, link_href

# Bump whenever the rules or their application change: stored results of older versions are
# sanitised again from the source.
SANITIZER_VERSION = 1

logger = logging.getLogger(__name__)

CidUrl = Callable[[str], str | None]
Attributes = dict[str, str]

_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_NO_ATTRIBUTES: frozenset[str] = frozenset()
_HTML_WHITESPACE = " \t\n\f\r"
# Elements nested deeper than this are unwrapped, their text kept: browsers stop nesting at
# about 512 levels anyway, and whatever walks the result recursively stays safe.
MAX_DEPTH = 256
_LINK_ATTRIBUTES = {"target": "_blank", "rel": "noopener noreferrer"}


@dataclass(frozen=True)
class SanitizedHtml:
    blocked: str  # nothing loads from outside: remote images without a source
    with_images: str  # remote images shown, for after the person clicks "Show images"
    has_remote_images: bool
    version: int = SANITIZER_VERSION


def sanitize_html(html: str, *, cid_url: CidUrl) -> SanitizedHtml:
    """Sanitise a mail's HTML body; `cid_url` maps a Content-ID to our URL for that part."""
    try:
        body = _parse_body(html)
    except _Unparseable:
        text = text_to_html(html_as_text(html))
        return SanitizedHtml(blocked=text, with_images=text, has_remote_images=False)
    blocked, with_images = ET.Element("DOCUMENT_FRAGMENT"), ET.Element("DOCUMENT_FRAGMENT")
    copier = _Copier(cid_url)
    if body is not None:
        copier.copy_body(body, _Twin(blocked, with_images))
    for root in (blocked, with_images):
        # A parser drops whitespace before the first element of a page: so do we, so that a
        # result sanitised again comes out the same.
        root.text = root.text and root.text.lstrip(_HTML_WHITESPACE)
    return SanitizedHtml(
        blocked=tree_to_html(blocked),
        with_images=tree_to_html(with_images),
        has_remote_images=copier.has_remote_images,
    )


class _Unparseable(Exception):
    pass


def _parse_body(html: str) -> ET.Element | None:
    """The element holding the mail's content; None for a <frameset> page (nothing to show).

    html5lib crashes on some malformed markup (fallback.py): a fragment parse, which starts
    in the body and so avoids the known cases, is the second try.
    """
    try:
        document = html5lib_shim.HTMLParser(namespaceHTMLElements=False).parse(html)
        return document.find("body")
    except Exception as error:  # any parser crash: try the next way
        logger.info("html5lib cannot parse this mail as a page (%r)", error)
    try:
        return html5lib_shim.HTMLParser(namespaceHTMLElements=False).parseFragment(html)
    except Exception as error:
        logger.info("html5lib cannot parse this mail as a fragment (%r)", error)
        raise _Unparseable from error


class _Twin:
    """The same place in both output trees: everything written here goes to both."""

    __slots__ = ("blocked", "with_images", "parent")

    def __init__(
        self, blocked: ET.Element, with_images: ET.Element, parent: "_Twin | None" = None
    ) -> None:
        self.blocked = blocked
        self.with_images = with_images
        self.parent = parent

    def add_text(self, text: str) -> None:
        if self.blocked.tag in TABLE_CHILDREN and not text.isspace():
            return  # a parser would move it out of the table (nesting.py): html5lib did not
        text = _CONTROL_CHARACTERS.sub("", text)
        _append_text(self.blocked, text)
        _append_text(self.with_images, text)

    def add_element(self, tag: str, attrs: Attributes, image_attrs: Attributes) -> "_Twin":
        """`image_attrs` go to the with_images tree only."""
        return _Twin(
            ET.SubElement(self.blocked, tag, attrs),
            ET.SubElement(self.with_images, tag, {**attrs, **image_attrs}),
            self,
        )

    def lineage(self) -> list["_Twin"]:
        """This element and its ancestors in the output, outermost first, the root left out."""
        line = []
        twin: _Twin | None = self
        while twin is not None and twin.parent is not None:
            line.append(twin)
            twin = twin.parent
        return line[::-1]

    def rename(self, tag: str) -> None:
        self.blocked.tag = self.with_images.tag = tag


def _append_text(node: ET.Element, text: str) -> None:
    if len(node):
        last = node[-1]
        last.tail = (last.tail or "") + text
    elif node.text is None and node.tag == "pre" and text.startswith("\n"):
        # The parser drops a newline right after <pre>: double it so it survives a re-parse.
        node.text = "\n" + text
    else:
        node.text = (node.text or "") + text


class _Copier:
    """Copies what may stay from the parsed mail into a _Twin."""

    def __init__(self, cid_url: CidUrl) -> None:
        self.cid_url = cid_url
        self.has_remote_images = False

    def copy_body(self, body: ET.Element, target: _Twin) -> None:
        # The body's background and colours carry the look; a div keeps them.
        style_parts = [f"background-color: {body.get('bgcolor')}"] if body.get("bgcolor") else []
        style = sanitize_style("; ".join([*style_parts, body.get("style", "")]))
        if style:
            target = target.add_element("div", {"style": style}, {})
        self.copy_children(body, target)

    def copy_children(self, source: ET.Element, target: _Twin) -> None:
        """Depth first without recursion: hostile mail can nest deeper than Python's stack."""
        if source.text:
            target.add_text(source.text)
        # Each entry: children left to visit, where they go, and the tail that follows them.
        stack: list[tuple[Iterator[ET.Element], _Twin, str | None, _Twin]] = [
            (iter(source), target, None, target)
        ]
        while stack:
            children, into, tail, tail_into = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if tail:
                    tail_into.add_text(tail)
                continue
            inner = self._open(child, into, too_deep=len(stack) > MAX_DEPTH)
            if inner is None:
                if child.tail:
                    into.add_text(child.tail)
                continue
            if child.text:
                inner.add_text(child.text)
            stack.append((iter(child), inner, child.tail, into))

    def _open(self, node: ET.Element, into: _Twin, too_deep: bool) -> _Twin | None:
        """Where the node's children go: a copy of it, its parent (unwrapped), or None."""
        tag = node.tag
        # Comments (their tag is a function), foreign content ("{namespace}name") and the
        # dropped elements go with everything inside them.
        if not isinstance(tag, str) or tag[0] == "{" or tag in DROPPED_TAGS:
            return None
        if too_deep or tag not in ALLOWED_TAGS:
            return into
        lineage = into.lineage()
        placement = fit(tag, [twin.blocked.tag for twin in lineage])
        if placement.tag is None:
            return into
        if placement.p_to_div is not None:
            lineage[placement.p_to_div].rename("div")
        attrs, image_attrs = self._attributes(placement.tag, node.attrib)
        return into.add_element(placement.tag, attrs, image_attrs)

    def _attributes(self, tag: str, source: dict[str, str]) -> tuple[Attributes, Attributes]:
        """The attributes for both trees, and those for the with_images tree only."""
        allowed = TAG_ATTRIBUTES.get(tag, _NO_ATTRIBUTES)
        attrs: Attributes = {}
        image_attrs: Attributes = {}
        if tag == "a" and "href" in source:
            href = link_href(source["href"])
            if href:
                attrs.update(href=href, **_LINK_ATTRIBUTES)
        elif tag == "img" and "src" in source:
            self._image(source["src"], attrs, image_attrs)
        for name, value in source.items():
            if name not in GLOBAL_ATTRIBUTES and name not in allowed:
                continue
            if name == "style":
                if style := sanitize_style(value):
                    attrs[name] = style
            else:
                attrs[name] = _CONTROL_CHARACTERS.sub("", value)
        return attrs, image_attrs

    def _image(self, src: str, attrs: Attributes, image_attrs: Attributes) -> None:
        source = image_source(src)
        if source is None:
            return
        if source.kind is ImageKind.CID:
            url = self.cid_url(source.value)
            if url:
                attrs["src"] = url
        elif source.kind is ImageKind.INLINE:
            attrs["src"] = source.value
        else:
            self.has_remote_images = True
            image_attrs.update(src=source.value, referrerpolicy="no-referrer")
