"""Hostile mail in a real browser: nothing loads, nothing runs (issue 5, points 3 and 9).

Each message below tries one way of reaching the sender's server or running code, pointed at
a loopback server that counts every request and connection (`COUNTER` in the HTML). Paths say
what a request would mean: /img/... an image, the only thing allowed, and only after "Show
images"; /canary/... code ran; /leak/... anything else got out. A script that runs also marks
the frame's body (data-canary) and opens a dialog. Two walls stand in the way: the sanitiser
(mailbox/content) and the frame's sandbox and CSP (mailbox/views/parts.py); the last test
takes the sanitiser away to check the second wall alone.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from accounts.models import MailAccount
from mailbox.content import SANITIZER_VERSION
from mailbox.models import Message
from tests.browser.mail_support import (
    BrowserWatch,
    CountingServer,
    Hit,
    location_of,
    new_mail_user,
    paths_not_under,
    sign_in,
    synced_account,
    wait_until,
    watch,
)
from tests.harness import messages
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.messages import Envelope, person
from tests.views.auth_support import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FRAME = "iframe.message-frame"
MALLORY = person("mallory@evil.test", "Mallory")


def canary(name: str) -> str:
    """JavaScript (in single quotes only, to sit in a double-quoted attribute) that, if it
    ever runs, marks the frame, calls the counter and opens a dialog."""
    return (
        f"document.body.setAttribute('data-canary','{name}');"
        f"new Image().src='COUNTER/canary/{name}';alert('{name}')"
    )


HOSTILE: dict[str, str] = {
    "Script tags": (
        f"<p>Scripts.</p><script>{canary('script')};"
        "location.href='COUNTER/canary/script-navigates'</script>"
        '<script src="COUNTER/canary/script-src"></script>'
        '<noscript><img src="COUNTER/leak/noscript"></noscript>'
    ),
    "Event handlers": (
        f'<body onload="{canary("body-onload")}"><p>Handlers.</p>'
        f'<img src="x" alt="broken" onerror="{canary("img-onerror")}">'
        f'<div onmouseover="{canary("onmouseover")}" style="height:40px">hover me</div>'
        f'<details open ontoggle="{canary("ontoggle")}"><summary>toggle</summary></details>'
        f'<p><input autofocus onfocus="{canary("onfocus")}"></p>'
        f'<marquee onstart="{canary("marquee")}">marquee</marquee></body>'
    ),
    "Remote image": '<p>A picture:</p><img src="COUNTER/img/remote.png" alt="remote picture">',
    "CSS url in style attributes": (
        '<div style="background-image:url(COUNTER/leak/style-background-image)">one</div>'
        "<p style=\"background: #fff url('COUNTER/leak/style-background') no-repeat\">two</p>"
        '<ul><li style="list-style-image:url(COUNTER/leak/style-list)">three</li></ul>'
        '<div style="background:u\\72l(COUNTER/leak/style-escaped)">four</div>'
        "<div style=\"background-image:image-set('COUNTER/leak/style-image-set' 1x)\">five</div>"
        '<div style="content:url(COUNTER/leak/style-content)">six</div>'
    ),
    "Srcset": (
        '<p>Pictures:</p><img src="COUNTER/img/srcset-src.png" alt="srcset picture" '
        'srcset="COUNTER/img/srcset-1x.png 1x, COUNTER/img/srcset-2x.png 2x">'
        '<picture><source srcset="COUNTER/img/picture-source.png">'
        '<img src="COUNTER/img/picture-img.png" alt="picture element"></picture>'
    ),
    "Style and import": (
        "<style>@import url('COUNTER/leak/import.css'); @import 'COUNTER/leak/import2.css';"
        "body { background: url(COUNTER/leak/style-block) }"
        "@font-face { font-family: evil; src: url(COUNTER/leak/font.woff) }"
        "p { font-family: evil }</style><p>Styled.</p>"
    ),
    "Link elements": (
        '<link rel="stylesheet" href="COUNTER/leak/link.css">'
        '<link rel="prefetch" href="COUNTER/leak/prefetch">'
        '<link rel="preload" as="image" href="COUNTER/leak/preload.png">'
        '<link rel="preconnect" href="COUNTER"><link rel="dns-prefetch" href="COUNTER">'
        '<link rel="icon" href="COUNTER/leak/icon.png"><p>Links.</p>'
    ),
    "Background attributes": (
        '<body background="COUNTER/leak/body-background"><p>Backgrounds.</p>'
        '<table background="COUNTER/leak/table-background"><tr>'
        '<td background="COUNTER/leak/td-background">cell</td></tr></table></body>'
    ),
    "Form": (
        '<form action="COUNTER/leak/form-action" method="post">'
        '<input name="secret" value="1"><button type="submit">Send form</button>'
        '<input type="image" src="COUNTER/leak/input-image" alt="image button"></form>'
        '<form id="other"></form><button form="other" formaction="COUNTER/leak/formaction">'
        "Other form</button><p>Forms.</p>"
    ),
    "Frames and objects": (
        '<iframe src="COUNTER/leak/iframe"></iframe>'
        f"<iframe srcdoc=\"<img src='COUNTER/leak/srcdoc'><script>{canary('srcdoc')}</script>\">"
        '</iframe><object data="COUNTER/leak/object"></object>'
        '<embed src="COUNTER/leak/embed"><p>Frames.</p>'
    ),
    "SVG and MathML": (
        f'<svg xmlns="http://www.w3.org/2000/svg" onload="{canary("svg-onload")}">'
        f"<script>{canary('svg-script')}</script>"
        '<image href="COUNTER/leak/svg-image" width="10" height="10"/>'
        '<use href="COUNTER/leak/svg-use#x"/></svg>'
        "<math><mtext><table><mglyph><style><!--</style>"
        f'<img title="--&gt;&lt;img src=x onerror={canary("mxss")}&gt;"></mglyph></table>'
        "</mtext></math><p>Vector art.</p>"
    ),
    "Meta refresh": (
        '<html><head><meta http-equiv="refresh" content="0; url=COUNTER/leak/meta-head">'
        '</head><body><p>Refresh.</p><meta http-equiv="refresh" content="0; '
        'url=COUNTER/leak/meta-body"></body></html>'
    ),
    "Base href": (
        '<html><head><base href="COUNTER/leak/base/"></head><body><p>Base.</p>'
        '<img src="relative.png" alt="relative picture"><a href="relative-link">relative link</a>'
        "</body></html>"
    ),
    "Javascript links": (
        f'<p><a href="javascript:{canary("javascript-link")}">js link</a></p>'
        f'<p><a href="jav&#x09;ascript:{canary("tab-link")}">tab link</a></p>'
        f'<p><a href="data:text/html,&lt;script&gt;{canary("data-link")}&lt;/script&gt;">'
        "data link</a></p>"
    ),
    "Media": (
        '<video poster="COUNTER/leak/video-poster" src="COUNTER/leak/video"></video>'
        '<audio src="COUNTER/leak/audio" autoplay></audio><p>Media.</p>'
    ),
}
# Clicked when left in a frame, in this order: the links last, since one that navigates
# takes the frame's content away.
TO_CLICK = ("Send form", "Other form", "js link", "tab link", "data link")
EVERYTHING = "Everything at once"
REMOTE_IMAGES = {"Remote image": "/img/remote.png", "Srcset": "/img/srcset-src.png"}
# Never in a frame's body, whatever the sanitiser keeps.
FORBIDDEN = (
    "script, style, link, meta, base, iframe, frame, object, embed, form, input, button, "
    "svg, math, video, audio, noscript"
)
HANDLER_ATTRIBUTES = """body => [body, ...body.querySelectorAll('*')].flatMap(
    el => [...el.attributes].filter(a => a.name.startsWith('on')).map(a => a.name))"""


def hostile_mail(counter: CountingServer) -> list[bytes]:
    bodies = {**HOSTILE, EVERYTHING: "".join(HOSTILE.values())}
    return [
        messages.html_only(
            Envelope(sender=MALLORY, subject=subject, message_id=f"<hostile.{i}@evil.test>"),
            html.replace("COUNTER", counter.base),
        )
        for i, (subject, html) in enumerate(bodies.items())
    ]


@pytest.fixture(scope="module")
def counter() -> Iterator[CountingServer]:
    with CountingServer().running() as server:
        yield server


@pytest.fixture(scope="module")
def hostile_mailbox(mail_servers: MailServers, counter: CountingServer) -> MailUser:
    mailbox = new_mail_user(mail_servers, "hostile")
    mail_servers.seed(mailbox.address, hostile_mail(counter))
    return mailbox


@pytest.fixture
def account(
    page: Page, live_server: Any, hostile_mailbox: MailUser, mail_servers: MailServers
) -> MailAccount:
    """A new person with the hostile mailbox synced, signed in in `page`."""
    user = make_user()
    account = synced_account(user, hostile_mailbox, mail_servers)
    sign_in(page, live_server.url, user)
    return account


@pytest.fixture
def seen(page: Page) -> BrowserWatch:
    found = watch(page)
    page.context.on("page", lambda popup: found.errors.append(f"a window opened: {popup.url}"))
    return found


def frame_problems(frame: FrameLocator) -> list[str]:
    """What the frame's body holds that it never may."""
    body = frame.locator("body")
    tags = body.locator(FORBIDDEN).evaluate_all("found => found.map(el => el.localName)")
    problems = [f"<{tag}>" for tag in tags]
    problems += [f"{name}=" for name in body.evaluate(HANDLER_ATTRIBUTES)]
    if body.get_attribute("data-canary") is not None:  # a script ran
        problems.append("data-canary")
    return problems


def open_frame(page: Page, seen: BrowserWatch, url: str) -> FrameLocator:
    page.goto(url)
    frame = page.frame_locator(FRAME).first
    expect(frame.locator("body")).not_to_be_empty()
    seen.settle(page)
    return frame


def poke(page: Page, seen: BrowserWatch, frame: FrameLocator) -> None:
    """Does what a reader might: hovers, clicks the buttons and links that are left."""
    acted = False
    hover = frame.get_by_text("hover me")
    if hover.count():
        hover.hover()
        acted = True
    for name in TO_CLICK:
        target = frame.get_by_text(name, exact=True)
        if target.count():
            target.click(timeout=2000)
            acted = True
    if acted:
        seen.settle(page)


def test_hostile_messages_load_nothing_and_run_nothing(
    page: Page, live_server: Any, account: MailAccount, counter: CountingServer, seen: BrowserWatch
) -> None:
    found: dict[str, object] = {}
    offered_images: set[str] = set()
    for subject in [*HOSTILE, EVERYTHING]:
        counter.reset()
        location = location_of(account, subject)
        frame = open_frame(page, seen, f"{live_server.url}/mail/m/{location.pk}/")
        problems = frame_problems(frame)
        poke(page, seen, frame)
        if counter.hits or counter.connections or problems:
            found[subject] = (counter.hits, counter.connections, problems)
        show = page.get_by_role("link", name="Show images")
        if not show.count():
            continue
        offered_images.add(subject)
        show.click()
        expect(show).to_have_count(0)
        frame = page.frame_locator(FRAME)
        expect(frame.locator("body")).not_to_be_empty()
        wanted = REMOTE_IMAGES.get(subject)
        if wanted:
            wait_until(page, lambda: wanted in counter.paths())  # noqa: B023
        seen.settle(page)
        problems = frame_problems(frame)
        poke(page, seen, frame)
        not_images = paths_not_under(counter.hits, ["/img/"])
        posts = [hit for hit in counter.hits if hit.method != "GET"]
        if not_images or posts or problems:
            found[f"{subject}, images shown"] = (not_images, posts, problems)
        if wanted and Hit("GET", wanted) not in counter.hits:
            found[f"{subject}, images shown"] = f"{wanted} was not requested: {counter.hits}"

    assert found == {}
    assert offered_images == {*REMOTE_IMAGES, EVERYTHING}
    assert seen.dialogs == [] and seen.errors == []
    assert seen.csp_reports == []  # the sanitiser left nothing for the CSP to refuse


def test_the_source_print_and_conversation_views_of_hostile_mail(
    page: Page, live_server: Any, account: MailAccount, counter: CountingServer, seen: BrowserWatch
) -> None:
    location = location_of(account, EVERYTHING)
    counter.reset()

    page.goto(f"{live_server.url}/mail/m/{location.pk}/source/")
    expect(page.locator("pre.message-source")).to_contain_text("<script>")  # as text
    seen.settle(page)
    for view in (f"/mail/m/{location.pk}/print/", f"/mail/thread/{location.message.thread_id}/"):
        frame = open_frame(page, seen, live_server.url + view)
        assert frame_problems(frame) == [], view
        poke(page, seen, frame)

    assert counter.hits == [] and counter.connections == 0
    assert seen.dialogs == [] and seen.errors == [] and seen.csp_reports == []


def test_the_frame_alone_stops_hostile_html_the_sanitiser_would_have_removed(
    page: Page, live_server: Any, account: MailAccount, counter: CountingServer, seen: BrowserWatch
) -> None:
    """The second wall: the raw hostile HTML, unsanitised, stored as if it were the
    sanitiser's output. The frame's sandbox and CSP (and the page's frame-src) must hold."""
    location = location_of(account, EVERYTHING)
    raw = "".join(HOSTILE.values()).replace("COUNTER", counter.base)
    Message.objects.filter(pk=location.message_id).update(
        html_blocked=raw,
        html_with_images=raw,
        has_remote_images=False,
        sanitizer_version=SANITIZER_VERSION,
    )
    counter.reset()

    frame = open_frame(page, seen, f"{live_server.url}/mail/m/{location.pk}/")
    problems = frame_problems(frame)
    assert "<script>" in problems and "onerror=" in problems  # the raw HTML is really there
    assert "<button>" in problems  # so poke() has forms to submit
    poke(page, seen, frame)

    # No request reaches the server. (Chromium does open a connection for an <iframe src>
    # before its frame-src check refuses the navigation: a bare TCP connection, no request,
    # which only the sanitiser prevents; the tests above count connections too.)
    assert counter.hits == []
    assert seen.dialogs == [] and seen.errors == []
    assert seen.csp_reports  # the frame's CSP refused the loads (and the watch sees it)
    assert any("sandboxed" in text and "allow-forms" in text for text in seen.console)
