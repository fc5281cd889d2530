"""The frame on a phone and in dark mode."""

import pytest
from playwright.sync_api import Page, expect

from tests.views.auth_support import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def body_colours(page: Page) -> tuple[str, str]:
    return tuple(
        page.evaluate(
            "(() => { const s = getComputedStyle(document.body);"
            " return [s.backgroundColor, s.color]; })()"
        )
    )


def test_the_sign_in_form_fits_a_360_pixel_phone(live_server, page: Page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/login/")

    expect(page.get_by_label("User name")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_in_viewport()
    assert horizontal_overflow(page) <= 0


def test_the_signed_in_frame_fits_a_360_pixel_phone(live_server, page: Page) -> None:
    alice = make_user(first_name="Maximiliane-Konstanze", last_name="Oberhollenzer-Schwarzenberg")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/login/?next=/preferences/")
    page.get_by_label("User name").fill(alice.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_label("Time zone")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert horizontal_overflow(page) <= 0


def test_dark_mode_follows_the_system(live_server, page: Page) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(f"{live_server.url}/login/")
    light = body_colours(page)

    page.emulate_media(color_scheme="dark")
    dark = body_colours(page)

    assert light == ("rgb(255, 255, 255)", "rgb(27, 31, 36)")
    assert dark[0] != light[0] and dark[1] != light[1]


def test_the_skip_link_appears_on_focus_and_focus_is_visible(live_server, page: Page) -> None:
    page.goto(f"{live_server.url}/password/reset/")  # a page without an autofocus field

    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
