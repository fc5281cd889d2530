"""How long does sanitising one HTML body take? ms per message, against bleach's clean().

Issue 4 wants sanitising off the first sync's critical path because it costs milliseconds a
message; this says how many. For a newsletter-sized body (built here: nested tables, inline
styles, a <style> block, remote images, a tracking pixel, MSO comments) and a small personal
mail, all in the same run:

- baseline: bleach's `Cleaner.clean()` with a comparable allowlist and its CSSSanitizer (one
  output, property names checked only, script text left visible);
- parse only: html5lib building the tree, the floor under both;
- sanitize_html: our one parse, one pass, two serialisations (blocked and with images).

    .venv/bin/python -m benchmarks.sanitize --repeats 50 --articles 30
"""

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

from bleach import html5lib_shim
from bleach.css_sanitizer import CSSSanitizer
from bleach.sanitizer import Cleaner

from mailbox.content.css import sanitize_style
from mailbox.content.rules import ALLOWED_TAGS, CSS_PROPERTIES, GLOBAL_ATTRIBUTES, TAG_ATTRIBUTES
from mailbox.content.sanitize import sanitize_html

_STYLE_BLOCK = "".join(
    f".c{i} {{ color: #{i:03x}; padding: {i % 9}px; font-family: Helvetica, Arial; }}\n"
    for i in range(120)
)


def _article(i: int) -> str:
    return f"""
<tr><td class="c{i}" style="padding: 20px 30px; background-color: #ffffff;" align="left">
  <a href="https://news.example.com/click?u=abc&amp;id={i}" style="color: #1a73e8;">
    <img src="https://cdn.example.com/images/story-{i}.jpg" width="540" height="260"
      alt="Story {i}" style="display: block; width: 100%; max-width: 540px; border: 0;"></a>
  <h2 style="font-family: Georgia, serif; font-size: 22px; color: #222; margin: 16px 0 8px;">
    Story number {i}: what happened this week</h2>
  <p style="font-size: 15px; line-height: 1.5; color: #444; margin: 0 0 12px;">
    Lorem ipsum dolor sit amet, <strong>consectetur</strong> adipiscing elit, sed do eiusmod
    tempor incididunt ut labore et dolore magna aliqua. <em>Ut enim</em> ad minim veniam, quis
    nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>
  <table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
    <td bgcolor="#1a73e8" style="border-radius: 4px; padding: 10px 18px;">
      <a href="https://news.example.com/read/{i}" target="_blank"
        style="color: #ffffff; text-decoration: none; font-weight: bold;">Read more</a>
    </td></tr></table>
  <!--[if mso]><table><tr><td width="540"><![endif]-->
</td></tr>"""


def newsletter_html(articles: int = 30) -> str:
    """A marketing mail of about 2 KB per article, shaped like what ESPs send."""
    body = "".join(_article(i) for i in range(articles))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><title>Weekly news</title>
<style type="text/css">{_STYLE_BLOCK}</style></head>
<body style="margin: 0; padding: 0; background-color: #f2f2f2;" bgcolor="#f2f2f2">
<div style="display: none; max-height: 0; overflow: hidden;">This week's stories inside</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" bgcolor="#f2f2f2">
<tr><td align="center"><table width="600" cellpadding="0" cellspacing="0" style="width: 600px;">
{body}
<tr><td style="font-size: 12px; color: #888; padding: 20px;" align="center">
You receive this because you subscribed. <a href="https://news.example.com/unsubscribe?u=abc">
Unsubscribe</a> &middot; <a href="mailto:news@example.com">Contact</a>
<img src="https://track.example.com/open.gif?u=abc" width="1" height="1" alt="">
</td></tr></table></td></tr></table></body></html>"""


SMALL_HTML = """<div dir="ltr">Hi Anna,<div><br></div><div>Thanks for the notes. Could we move
the call to <b>Thursday at 10</b>? The agenda is at
<a href="https://docs.example.com/d/123">docs.example.com/d/123</a>.</div><div><br></div>
<div>Best,<br>Ben</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon,
Anna wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;
border-left:1px solid rgb(204,204,204);padding-left:1ex">Here are my notes.<br>
<img src="cid:ii_abc123" alt="chart.png" width="400"></blockquote></div></div>"""


@dataclass(frozen=True)
class Figure:
    name: str
    body: str
    size: int  # characters of HTML per message
    seconds: float
    count: int


def baseline_cleaner() -> Cleaner:
    """bleach's one-output clean() with the same tags, attributes and CSS property names."""
    attributes = {tag: [*names, *GLOBAL_ATTRIBUTES] for tag, names in TAG_ATTRIBUTES.items()}
    attributes["*"] = list(GLOBAL_ATTRIBUTES)
    attributes["a"] = [*attributes["a"], "href"]
    attributes["img"] = [*attributes["img"], "src"]
    return Cleaner(
        tags=ALLOWED_TAGS,
        attributes=attributes,
        protocols={"http", "https", "mailto", "cid"},
        strip=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=CSS_PROPERTIES),
    )


Method = tuple[str, Callable[[str], object]]


def _time_body(body: str, html: str, repeats: int, methods: list[Method]) -> list[Figure]:
    """Round-robin over the methods, so a busy machine slows them all alike."""
    seconds = dict.fromkeys((name for name, _ in methods), 0.0)
    for _, work in methods:
        work(html)  # warm up imports and caches
    for _ in range(repeats):
        for name, work in methods:
            started = time.perf_counter()
            work(html)
            seconds[name] += time.perf_counter() - started
    return [Figure(name, body, len(html), seconds[name], repeats) for name, _ in methods]


def _parse_only(html: str) -> object:
    return html5lib_shim.HTMLParser(namespaceHTMLElements=False).parse(html)


def _sanitize(html: str) -> object:
    sanitize_style.cache_clear()  # each message pays for its own styles, as a first one would
    return sanitize_html(html, cid_url=lambda content_id: f"/cid/{content_id}")


def run(repeats: int, articles: int) -> list[Figure]:
    """Times each way over each body; the baseline comes first in each body's group."""
    methods: list[Method] = [
        ("bleach clean() (baseline)", baseline_cleaner().clean),
        ("html5lib parse only", _parse_only),
        ("sanitize_html (2 outputs)", _sanitize),
    ]
    figures = []
    for body, html in (("newsletter", newsletter_html(articles)), ("small", SMALL_HTML)):
        figures += _time_body(body, html, repeats, methods)
    return figures


def report(figures: list[Figure]) -> str:
    lines = []
    for figure in figures:
        baseline = next(f for f in figures if f.body == figure.body and "baseline" in f.name)
        per_message = figure.seconds / figure.count
        ratio = per_message / (baseline.seconds / baseline.count)
        lines.append(
            f"  {figure.body:10} {figure.size / 1024:6.1f} KB  {figure.name:27} "
            f"{per_message * 1e3:8.2f} ms/msg {ratio:6.2f}x baseline"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--articles", type=int, default=30, help="about 2 KB each")
    args = parser.parse_args()
    print(f"{args.repeats} repeats per figure")
    print(report(run(args.repeats, args.articles)))


if __name__ == "__main__":
    main()
