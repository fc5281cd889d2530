"""Readable text from HTML, cheaply, for snippets: not a sanitiser and not an HTML parser.

Everything here runs in time linear in the input: each step searches forward from where the
last one stopped (a regex such as `<script.*?</script>` rescans to the end for every unclosed
tag, which hostile mail turns into minutes).
"""

import html as html_entities
import re
import unicodedata

SNIPPET_LENGTH = 200
# An opening tag whose content is never text, a comment, or any other tag (`[^<>]` keeps a
# stray "<" from making the tag pattern scan to the end of the document).
_TOKEN = re.compile(
    r"<(?P<skip>script|style|head|title|template|noscript|svg|math)\b[^<>]*>"
    r"|(?P<comment><!--)"
    r"|</?(?P<tag>[a-zA-Z][a-zA-Z0-9]*)?[^<>]*>",
    re.IGNORECASE,
)
_BLOCKS = frozenset(
    ("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer",
     "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
     "section", "table", "td", "th", "tr", "ul")
)  # fmt: skip
# Control characters other than whitespace (NUL breaks PostgreSQL text): removed.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")


def html_to_text(html: str, limit: int | None = None) -> str:
    """The visible text of `html`, tags dropped, entities decoded, block ends as line breaks.

    With `limit`, stops once about that many characters of text are collected.
    """
    pieces: list[str] = []
    collected = 0
    position = 0
    while limit is None or collected < limit:
        match = _TOKEN.search(html, position)
        if match is None:
            pieces.append(html[position:])
            break
        text = html[position : match.start()]
        pieces.append(text)
        collected += len(text.strip())
        position = _skip(html, match)
        if match["tag"] and match["tag"].lower() in _BLOCKS:
            pieces.append("\n")
    return html_entities.unescape("".join(pieces))


def _skip(html: str, match: re.Match[str]) -> int:
    """Where reading resumes after `match`: past the element's end for script and style."""
    if match["comment"]:
        end = html.find("-->", match.end())
        return len(html) if end < 0 else end + 3
    if match["skip"]:
        closing = re.compile(rf"</{match['skip']}\s*>", re.IGNORECASE).search(html, match.end())
        return len(html) if closing is None else closing.end()
    return match.end()


def snippet(text: str, html: str | None, length: int = SNIPPET_LENGTH) -> str:
    """The first words a person sees: from the text body, else from the HTML."""
    source = collapse(text[: length * 3])
    if len(source) < length and len(text) > length * 3:  # mostly blank lines at the top
        source = collapse(text[: length * 50])
    if not source and html:
        source = collapse(html_to_text(html, limit=length * 4))
    if len(source) <= length:
        return source
    cut = source[:length]
    space = cut.rfind(" ")
    return (cut[:space] if space > length - 30 else cut).rstrip() + "…"


def collapse(text: str) -> str:
    """One line: whitespace runs as one space, control characters gone."""
    if _CONTROLS.search(text):  # rare: searching is much cheaper than substituting
        text = _CONTROLS.sub("", text)
    return " ".join(text.split())


# A search word: letters, digits and "_" (a longer run is several words, on both sides).
SEARCH_WORD = re.compile(r"\w{1,200}")
_ACCENTS = re.compile(r"[\u0300-\u036f]+")  # combining diacritical marks
# Distinct words kept per message: within PostgreSQL's 1 MB per tsvector even at four bytes a
# character, and far more than the words of any letter.
MAX_SEARCH_WORDS_CHARS = 100_000


def search_words(*texts: str) -> str:
    """The distinct words of `texts`, lowercase and without accents, first seen first, one
    space between: what a message's search index holds. Queries are split into words the same
    way (mailbox/search.py), so "example" finds alice@example.test and "muller" finds Müller
    on either database (SQLite's FTS5 drops accents itself), and PostgreSQL reads the words as
    they are (a split on spaces, not its text parser, which cost ten times as much: migration
    0013)."""
    words = " ".join(dict.fromkeys(word_list("\n".join(texts))))
    if len(words) <= MAX_SEARCH_WORDS_CHARS:
        return words
    return words[: max(0, words.rfind(" ", 0, MAX_SEARCH_WORDS_CHARS + 1))]


def word_list(text: str) -> list[str]:
    """`text`'s words in order, lowercase and without accents (decomposed or not)."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))
    return SEARCH_WORD.findall(text)
