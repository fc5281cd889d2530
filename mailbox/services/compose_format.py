"""Plain or rich: the body of what the person wrote, and what the rich editor opens with.

The compose form carries both a plain `text` (the textarea, all there is without
JavaScript) and, from the rich editor (static/compose-editor.js), `html` with `rich` on.
A rich message is sent as multipart/alternative: the HTML sanitised again here with the
compose rules (mailbox/content/compose_html.py) and its text/plain twin made from the same
tree. The editor's first content is built here as a tree too: the signature, and for a reply
or forward the original's stored sanitised HTML (services/message_html.py), filtered once
more by the compose rules (so no image, remote or not, and no style), under the same
attribution line or "Forwarded message" header as the plain text. It is shown in our own
page, so it must be as safe as anything we send.
"""

import xml.etree.ElementTree as ET  # noqa: S405 - builds trees, never parses XML
from dataclasses import dataclass
from typing import Any

from mailbox.content.compose_html import (
    compose_html_and_text,
    compose_tree,
    sanitize_compose_html,
)
from mailbox.content.serialize import tree_to_html
from mailbox.models import Message
from mailbox.protocols.mime import parse_message
from mailbox.services.message_html import BodyNotStored, message_html
from mailbox.services.reading import plain_text, raw_message


@dataclass(frozen=True)
class Body:
    text: str
    html: str | None  # None: a plain-text message


@dataclass(frozen=True)
class Quote:
    """A reply's or forward's original: its heading lines, and whether it is a forward."""

    message: Message
    heading: list[str]
    is_forward: bool


def body_of(cleaned: dict[str, Any]) -> Body:
    """The message's text and HTML as the form's cleaned values describe them."""
    if not cleaned.get("rich"):
        return Body(text=cleaned["text"], html=None)
    composed = compose_html_and_text(cleaned.get("html") or "")
    if not composed.text.strip():
        return Body(text="", html=None)  # an empty editor: nothing to format
    return Body(text=composed.text, html=composed.html)


def rich_initial(signature: str, quote: Quote | None) -> dict[str, Any]:
    """The form's `html` (what the editor opens with) and `rich` (on for answering HTML mail)."""
    root = ET.Element("DOCUMENT_FRAGMENT")
    _lines(root, ["", ""])  # where the person starts writing
    if signature:
        _lines(root, ["-- ", *signature.split("\n")])
    if quote is not None:
        _quote(root, quote)
    return {"html": tree_to_html(root), "rich": quote is not None and _has_html(quote.message)}


def reopened(html: str | None) -> dict[str, Any]:
    """`html` and `rich` for a message written before (taken back by Undo): rich if it was."""
    return {"html": sanitize_compose_html(html), "rich": True} if html else {}


def _quote(root: ET.Element, quote: Quote) -> None:
    _lines(root, ["", *quote.heading])
    if quote.is_forward:
        _lines(root, [""])
        into = root
    else:
        into = ET.SubElement(root, "blockquote")
    original = _original(quote.message)
    if original.text:  # the text before its first element, which is not a child
        if len(into):
            into[-1].tail = (into[-1].tail or "") + original.text
        else:
            into.text = original.text
    into.extend(list(original))


def _original(message: Message) -> ET.Element:
    """The original as a tree of compose-safe elements; its text where no body is stored."""
    try:
        return compose_tree(message_html(message, images=False))
    except BodyNotStored:
        root = ET.Element("DOCUMENT_FRAGMENT")
        _lines(root, plain_text(message).strip("\n").split("\n"))
        return root


def _has_html(message: Message) -> bool:
    raw = raw_message(message)
    return raw is not None and parse_message(raw).html is not None


def _lines(root: ET.Element, lines: list[str]) -> None:
    """Each line as the editor writes one: a <div>, an empty one holding a <br>."""
    for line in lines:
        block = ET.SubElement(root, "div")
        if line:
            block.text = line
        else:
            ET.SubElement(block, "br")
