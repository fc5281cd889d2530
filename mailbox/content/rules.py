"""What survives sanitising: the allowlists, kept apart from the code that applies them.

Changing anything here changes stored results: bump SANITIZER_VERSION in sanitize.py.
"""

# Kept with their allowed attributes (below); everything else is dropped or unwrapped.
ALLOWED_TAGS = frozenset(
    {
        # text formatting
        "a", "abbr", "acronym", "address", "b", "bdi", "bdo", "big", "blockquote", "br",
        "center", "cite", "code", "del", "dfn", "div", "em", "font", "h1", "h2", "h3", "h4",
        "h5", "h6", "hr", "i", "img", "ins", "kbd", "mark", "p", "pre", "q", "s", "samp",
        "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
        # lists
        "dd", "dl", "dt", "li", "ol", "ul",
        # tables
        "caption", "col", "colgroup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        # sectioning that newsletters use as plain blocks
        "article", "aside", "details", "figcaption", "figure", "footer", "header", "main",
        "nav", "section", "summary",
    }
)  # fmt: skip

# Removed with everything inside them: code, remote or active content, forms, and the raw-text
# elements whose text would otherwise show up as visible code (bleach's strip mode keeps it).
DROPPED_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "noframes", "object", "embed",
        "applet", "param", "form", "input", "button", "select", "option", "optgroup",
        "textarea", "datalist", "output", "keygen", "progress", "meter", "base", "meta",
        "link", "template", "noscript", "noembed", "xmp", "plaintext", "title", "head",
        "audio", "video", "source", "track", "canvas", "map", "area", "portal", "dialog",
        "slot", "svg", "math",
    }
)  # fmt: skip

# Attributes any allowed element may keep. No id, name or class: without <style> blocks class
# does nothing, and ids could clobber names in whatever page shows the result.
GLOBAL_ATTRIBUTES = frozenset(
    {"style", "title", "dir", "lang", "align", "valign", "role", "aria-label", "aria-hidden"}
)

_CELL = frozenset({"width", "height", "bgcolor", "colspan", "rowspan", "nowrap", "abbr", "scope"})

# Per-tag extras. URL-valued attributes (a href, img src) are handled in sanitize.py, not here.
TAG_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset(),
    "img": frozenset({"alt", "width", "height", "border", "hspace", "vspace"}),
    "table": frozenset({"width", "height", "border", "cellpadding", "cellspacing", "bgcolor",
                        "summary", "frame", "rules"}),
    "td": _CELL,
    "th": _CELL,
    "tr": frozenset({"bgcolor", "height"}),
    "thead": frozenset({"bgcolor"}),
    "tbody": frozenset({"bgcolor"}),
    "tfoot": frozenset({"bgcolor"}),
    "col": frozenset({"span", "width"}),
    "colgroup": frozenset({"span", "width"}),
    "font": frozenset({"color", "face", "size"}),
    "ol": frozenset({"start", "type", "reversed"}),
    "ul": frozenset({"type"}),
    "li": frozenset({"value", "type"}),
    "hr": frozenset({"width", "size", "noshade", "color"}),
    "time": frozenset({"datetime"}),
    "del": frozenset({"datetime"}),
    "ins": frozenset({"datetime"}),
    "details": frozenset({"open"}),
}  # fmt: skip

# CSS properties kept in style attributes; every value is checked as well (css.py).
CSS_PROPERTIES = frozenset(
    {
        "color", "background", "background-color",
        "font", "font-family", "font-size", "font-style", "font-variant", "font-weight",
        "line-height", "letter-spacing", "word-spacing", "text-align", "text-decoration",
        "text-decoration-color", "text-decoration-line", "text-decoration-style",
        "text-indent", "text-transform", "vertical-align", "white-space", "word-break",
        "word-wrap", "overflow-wrap", "direction",
        "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
        "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
        "border", "border-top", "border-right", "border-bottom", "border-left",
        "border-color", "border-style", "border-width", "border-radius",
        "border-top-color", "border-right-color", "border-bottom-color", "border-left-color",
        "border-top-style", "border-right-style", "border-bottom-style", "border-left-style",
        "border-top-width", "border-right-width", "border-bottom-width", "border-left-width",
        "border-top-left-radius", "border-top-right-radius",
        "border-bottom-left-radius", "border-bottom-right-radius",
        "border-collapse", "border-spacing", "table-layout", "caption-side", "empty-cells",
        "width", "height", "min-width", "min-height", "max-width", "max-height",
        "display", "visibility", "float", "clear", "overflow", "overflow-x", "overflow-y",
        "position", "list-style", "list-style-type", "list-style-position", "box-sizing",
    }
)  # fmt: skip

# Properties whose value must be one of a few keywords.
CSS_KEYWORD_PROPERTIES: dict[str, frozenset[str]] = {
    # fixed/absolute/sticky could lay the sender's content over ours; with no offsets allowed,
    # relative is harmless.
    "position": frozenset({"static", "relative"}),
    "display": frozenset(
        {
            "none", "block", "inline", "inline-block", "flex", "inline-flex", "list-item",
            "table", "inline-table", "table-row", "table-cell", "table-caption",
            "table-row-group", "table-header-group", "table-footer-group",
            "table-column", "table-column-group",
        }
    ),
}  # fmt: skip

# Only colour functions: url(), expression(), image-set(), var(), attr() and friends go.
CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla"})
