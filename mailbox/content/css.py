"""Inline style attributes: parsed with tinycss2, filtered by property and by value, rewritten.

bleach's CSSSanitizer checks property names only, so `width: expression(...)`,
`background: url(https://tracker/)` and `position: fixed` would pass it. Here every value is
checked token by token after tinycss2 has decoded CSS escapes (so `\\75 rl(` is seen as the
`url(` it is), and the declaration is written back from those tokens: what the browser parses
is what was checked. A declaration that would need an escape to be written back is dropped.
"""

from collections.abc import Iterable
from functools import lru_cache

import tinycss2
from tinycss2 import ast

from mailbox.content.rules import CSS_FUNCTIONS, CSS_KEYWORD_PROPERTIES, CSS_PROPERTIES

_PLAIN_TOKENS = (
    ast.WhitespaceToken,
    ast.IdentToken,
    ast.StringToken,
    ast.NumberToken,
    ast.PercentageToken,
    ast.DimensionToken,
    ast.HashToken,
    ast.LiteralToken,
)
# Words that have no business in a value we keep, whatever tokens they hide in.
_SUSPECT_WORDS = ("expression", "javascript", "vbscript", "behavior", "binding", "url(", "\\")


@lru_cache(maxsize=4096)  # newsletters repeat the same few styles hundreds of times
def sanitize_style(style: str) -> str:
    """The declarations of a style attribute that are allowed, as a style attribute value."""
    kept = []
    for node in tinycss2.parse_declaration_list(style, skip_comments=True, skip_whitespace=True):
        if isinstance(node, ast.Declaration):
            declaration = _sanitize_declaration(node)
            if declaration:
                kept.append(declaration)
    return "; ".join(kept)


def _sanitize_declaration(node: ast.Declaration) -> str | None:
    name = node.lower_name
    if name not in CSS_PROPERTIES:
        return None
    tokens = node.value
    if name == "background":
        # Keep the colour of a background whose image is a remote resource.
        tokens = _without_urls(tokens)
    if not _tokens_allowed(tokens):
        return None
    if name in CSS_KEYWORD_PROPERTIES and not _is_keyword(tokens, CSS_KEYWORD_PROPERTIES[name]):
        return None
    value = tinycss2.serialize(tokens).strip()
    lowered = value.lower()
    if not value or any(word in lowered for word in _SUSPECT_WORDS):
        return None
    return f"{name}: {value}{' !important' if node.important else ''}"


def _without_urls(tokens: list[ast.Node]) -> list[ast.Node]:
    kept: list[ast.Node] = []
    for token in tokens:
        if isinstance(token, ast.URLToken) or (
            isinstance(token, ast.FunctionBlock) and token.lower_name == "url"
        ):
            continue
        if isinstance(token, ast.WhitespaceToken) and kept and kept[-1].type == "whitespace":
            continue
        kept.append(token)
    return kept


def _tokens_allowed(tokens: Iterable[ast.Node]) -> bool:
    for token in tokens:
        if isinstance(token, ast.FunctionBlock):
            if token.lower_name not in CSS_FUNCTIONS or not _tokens_allowed(token.arguments):
                return False
        elif not isinstance(token, _PLAIN_TOKENS):
            return False  # url, @keyword, blocks, parse errors
        elif isinstance(token, ast.LiteralToken) and token.value not in {",", "/"}:
            return False
    return True


def _is_keyword(tokens: Iterable[ast.Node], allowed: frozenset[str]) -> bool:
    words = [token for token in tokens if not isinstance(token, ast.WhitespaceToken)]
    return (
        len(words) == 1 and isinstance(words[0], ast.IdentToken) and words[0].lower_value in allowed
    )
