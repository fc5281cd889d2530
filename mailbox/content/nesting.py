"""Keeps the output a tree that an HTML parser builds again from its own serialisation.

The parser that reads a mail builds some trees that do not survive being written out and read
again: table content moved out of the table ("foster parenting") can put a <div> inside a <p>
or an <a> inside an <a>, and unwrapping an element the rules do not keep (a <marquee>, which
the parser treats as a boundary) can do the same. A browser would re-nest such a result, and
sanitising it again would change it. Before the copier places an element it asks `fit`, which
applies the few parser rules that matter for the elements we keep.
"""

from dataclasses import dataclass

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Start tags that close an open <p> (we treat <table> as one too, as it is outside quirks mode).
P_CLOSERS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "details", "div", "dl",
        "figcaption", "figure", "footer", "header", "main", "nav", "ol", "p", "section",
        "summary", "ul", "pre", "hr", "table", "li", "dd", "dt", *HEADINGS,
    }
)  # fmt: skip
# Of the elements we keep, those that bound the parser's scope searches.
SCOPE_BOUNDARIES = frozenset({"table", "td", "th", "caption"})
# Elements through which an <li>, <dd> or <dt> start tag looks for one to close.
LIST_ITEM_SEE_THROUGH = frozenset(
    {
        "address", "div", "p", "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite",
        "code", "del", "dfn", "em", "font", "i", "ins", "kbd", "mark", "q", "s", "samp",
        "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var",
    }
)  # fmt: skip
LIST_ITEM_CLOSES = {"li": frozenset({"li"}), "dd": frozenset({"dd", "dt"})}
LIST_ITEM_CLOSES["dt"] = LIST_ITEM_CLOSES["dd"]
# Table parts only stay where the parser would put them.
TABLE_PARENTS = {
    "caption": frozenset({"table"}),
    "colgroup": frozenset({"table"}),
    "thead": frozenset({"table"}),
    "tbody": frozenset({"table"}),
    "tfoot": frozenset({"table"}),
    "tr": frozenset({"thead", "tbody", "tfoot"}),
    "td": frozenset({"tr"}),
    "th": frozenset({"tr"}),
    "col": frozenset({"colgroup"}),
}
TABLE_CHILDREN = {
    "table": frozenset({"caption", "colgroup", "thead", "tbody", "tfoot"}),
    "thead": frozenset({"tr"}),
    "tbody": frozenset({"tr"}),
    "tfoot": frozenset({"tr"}),
    "tr": frozenset({"td", "th"}),
    "colgroup": frozenset({"col"}),
}


@dataclass(frozen=True)
class Fit:
    tag: str | None  # the element to write (None: unwrap it, keeping its content)
    p_to_div: int | None = None  # index in `parents` of a <p> that must become a <div>


def fit(tag: str, parents: list[str]) -> Fit:
    """How to place `tag` inside `parents` (the output's open elements, outermost first)."""
    parent = parents[-1] if parents else ""
    if tag in TABLE_PARENTS and parent not in TABLE_PARENTS[tag]:
        return Fit(None)
    if parent in TABLE_CHILDREN and tag not in TABLE_CHILDREN[parent]:
        return Fit(None)
    if tag == "a" and "a" in _up_to_boundary(parents):
        return Fit(None)  # the parser would close the outer link first
    if (tag in HEADINGS and parent in HEADINGS) or _closes_a_list_item(tag, parents):
        tag = "div"  # the parser would close the outer one first
    p_to_div = _open_p(parents) if tag in P_CLOSERS else None
    return Fit(tag, p_to_div)


def _up_to_boundary(parents: list[str]) -> list[str]:
    for index in range(len(parents) - 1, -1, -1):
        if parents[index] in SCOPE_BOUNDARIES:
            return parents[index + 1 :]
    return parents


def _open_p(parents: list[str]) -> int | None:
    for index in range(len(parents) - 1, -1, -1):
        if parents[index] == "p":
            return index
        if parents[index] in SCOPE_BOUNDARIES:
            return None
    return None


def _closes_a_list_item(tag: str, parents: list[str]) -> bool:
    if tag not in LIST_ITEM_CLOSES:
        return False
    for parent in reversed(parents):
        if parent in LIST_ITEM_CLOSES[tag]:
            return True
        if parent not in LIST_ITEM_SEE_THROUGH:
            return False
    return False
