"""The text/plain alternative of a message written in the rich editor.

Reads the tree compose_html.py has already filtered (only its few elements, a link's href
checked), so it never sees anything else. Written the way mail clients write plain text:
blocks on their own lines, paragraphs and headings apart by an empty line, quotes as "> ",
list items as "- " or "1. " (their further lines indented), a link as "text <url>" unless
its text is the address. Spaces collapse as a browser would show them, except in <pre>. The
signature separator "-- " keeps its trailing space.
"""

import re
import xml.etree.ElementTree as ET  # noqa: S405 - walks trees, never parses XML
from dataclasses import dataclass

PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "pre"})  # an empty line before and after
BLOCKS = PARAGRAPHS | {"div", "blockquote", "ul", "ol", "li"}
SIGNATURE_SEPARATOR = "-- "
_SPACES = re.compile(r"[ \t\n\r\f]+")


@dataclass
class _Prefix:
    first: str  # before the first line it starts ("- ", "> ")
    rest: str  # before its further lines ("  ", "> ")
    is_used: bool = False


class _Writer:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []  # (prefix, content)
        self.line: list[str] = []
        self.prefixes: list[_Prefix] = []

    def text(self, text: str, *, preformatted: bool) -> None:
        if preformatted:
            first, *others = text.split("\n")
            self.line.append(first)
            for other in others:
                self.end_line()
                self.line.append(other)
            return
        text = _SPACES.sub(" ", text)
        if not self.line or "".join(self.line).endswith(" "):
            text = text.lstrip(" ")
        if text:
            self.line.append(text)

    def end_line(self) -> None:
        """Ends the current line, even an empty one (a <br>)."""
        prefix = ""
        for item in self.prefixes:
            prefix += item.rest if item.is_used else item.first
            item.is_used = True
        content = "".join(self.line).replace("\xa0", " ")  # editors write spaces as &nbsp;
        self.lines.append((prefix, content if content == SIGNATURE_SEPARATOR else content.rstrip()))
        self.line = []

    def edge(self) -> None:
        """A block starts or ends here: the text so far gets its own line."""
        if "".join(self.line).strip():
            self.end_line()
        self.line = []

    def empty_line(self) -> None:
        """Between paragraphs, but not into a quote (it follows its attribution line)."""
        quotes = "".join(item.rest for item in self.prefixes if item.rest.startswith(">"))
        last = self.lines[-1] if self.lines else ("", "")
        if last[1] and last[0].count(">") >= quotes.count(">"):
            self.lines.append((quotes, ""))

    def result(self) -> str:
        self.edge()
        lines = [(prefix + content).rstrip(" ") if not content else prefix + content
                 for prefix, content in self.lines]  # fmt: skip
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        return "\n".join(lines) + "\n" if lines else ""


def tree_to_text(root: ET.Element) -> str:
    writer = _Writer()
    _write_children(root, writer, preformatted=False)
    return writer.result()


def _write_children(node: ET.Element, writer: _Writer, *, preformatted: bool) -> None:
    if node.text:
        writer.text(node.text, preformatted=preformatted)
    number = 0
    for child in node:
        if child.tag == "li":
            number += 1
        _write(child, writer, preformatted=preformatted, number=number, parent=node.tag)
        if child.tail:
            writer.text(child.tail, preformatted=preformatted)


def _write(
    node: ET.Element, writer: _Writer, *, preformatted: bool, number: int, parent: str
) -> None:
    tag = node.tag
    if tag == "br":
        writer.end_line()
        return
    if tag in BLOCKS:
        writer.edge()
    if tag in PARAGRAPHS:
        writer.empty_line()
    prefix = _prefix(tag, number, parent)
    if prefix:
        writer.prefixes.append(prefix)
    _write_children(node, writer, preformatted=preformatted or tag == "pre")
    if tag == "a":
        _write_address(node, writer)
    if tag in BLOCKS:
        writer.edge()
    if prefix:
        writer.prefixes.pop()
    if tag in PARAGRAPHS:
        writer.empty_line()


def _prefix(tag: str, number: int, parent: str) -> _Prefix | None:
    if tag == "blockquote":
        return _Prefix("> ", "> ")
    if tag == "li":
        marker = f"{number}. " if parent == "ol" else "- "
        return _Prefix(marker, " " * len(marker))
    return None


def _write_address(link: ET.Element, writer: _Writer) -> None:
    href = link.get("href", "")
    text = "".join(link.itertext()).strip()
    if href and href not in (text, f"mailto:{text}"):
        writer.text(f" <{href}>", preformatted=False)
