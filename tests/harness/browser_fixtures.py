"""Headless Chromium driven by Playwright for Python.

Playwright's own browser download cannot work here, so it drives Debian's Chromium
(`/usr/bin/chromium`, installed by the test command). The flags keep it off the network.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.conftest import require_service

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's live_server, started only once the test database exists.

    pytest-django's own starts first: on SQLite (`DATABASE_URL=sqlite://`) the connection's
    name still reads ':memory:' then, so the server thread is handed this thread's own
    connection, and two threads on one sqlite3 connection crash (segfaults, "Cannot operate
    on a closed database"). Started after, each thread opens the test database file itself.
    """
    address = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(address)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    # Playwright's sync API runs an event loop in this thread, which trips Django's
    # async-safety check on every ORM call a test makes; relaxed here, in tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        require_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
