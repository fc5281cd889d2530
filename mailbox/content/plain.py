"""Plain-text mail as safe HTML: escaped, lines kept, quotes indented, links clickable.

The text is escaped line by line and put between a few constant tags; bleach's linkifier then
parses that, turns web addresses and mail addresses in the text into links, and serialises it.
Its callback passes every link through the same check as HTML mail (`urls.link_href`), so only
http(s) and mailto links exist, each opening in a new tab without a referrer.
"""

import html
import re
import threading
from collections.abc import Iterable

from bleach.linkifier import TLDS, Linker, build_email_re, build_url_re

from mailbox.content.urls import link_href

# bleach's TLD list predates the new generic TLDs; add the ones mail is full of.
_TLDS = [
    *TLDS,
    "app", "dev", "page", "blog", "shop", "store", "online", "site", "website", "tech", "cloud",
    "email", "news", "live", "media", "agency", "digital", "club", "events", "global", "group",
    "link", "network", "solutions", "today", "works", "xyz",
]  # fmt: skip
_URL_RE = build_url_re(tlds=sorted(_TLDS, reverse=True), protocols=["http", "https"])
_EMAIL_RE = build_email_re(tlds=sorted(_TLDS, reverse=True))
_QUOTE_PREFIX = re.compile(r"(?:>[ \t]?)+")
_WRAPPER = '<div style="white-space: pre-wrap; overflow-wrap: anywhere">'
_BLOCKQUOTE = (
    '<blockquote style="margin: 0 0 0 0.8ex; border-left: 2px solid #ccc; padding-left: 1ex">'
)
_local = threading.local()  # a Linker holds parser state: one per thread


def text_to_html(text: str) -> str:
    """Safe HTML for a plain-text body (`<br>` between lines, so it reads right without CSS)."""
    return _linker().linkify(_compose(_quote_levels(text.splitlines())))


def _quote_levels(lines: Iterable[str]) -> list[tuple[int, str]]:
    """Each line with how deeply it is quoted ("> > text" is 2) and its text without the marks."""
    levels = []
    for line in lines:
        prefix = _QUOTE_PREFIX.match(line)
        marks = prefix.group().count(">") if prefix else 0
        levels.append((marks, line[prefix.end() :] if prefix else line))
    return levels


def _compose(lines: list[tuple[int, str]]) -> str:
    parts = [_WRAPPER]
    depth = 0
    for index, (level, line) in enumerate(lines):
        if index and level == depth:
            parts.append("<br>")
        parts.extend([_BLOCKQUOTE] * (level - depth))
        parts.extend(["</blockquote>"] * (depth - level))
        depth = level
        parts.append(html.escape(line, quote=False))
    parts.extend(["</blockquote>"] * depth)
    parts.append("</div>")
    return "".join(parts)


def _link_attributes(attrs: dict, new: bool = False) -> dict | None:
    """bleach linkify callback: keep http(s)/mailto links only, opening in a new tab."""
    href = link_href(attrs.get((None, "href"), ""))
    if href is None:
        return None  # the text stays, unlinked
    attrs[(None, "href")] = href
    attrs[(None, "target")] = "_blank"
    attrs[(None, "rel")] = "noopener noreferrer"
    return attrs


def _linker() -> Linker:
    linker = getattr(_local, "linker", None)
    if linker is None:
        linker = Linker(
            callbacks=[_link_attributes], parse_email=True, url_re=_URL_RE, email_re=_EMAIL_RE
        )
        _local.linker = linker
    return linker
