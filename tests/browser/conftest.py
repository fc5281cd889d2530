"""Fixtures every browser test shares."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser.mail_support import BrowserWatch, watch


@pytest.fixture
def seen(page: Page) -> Iterator[BrowserWatch]:
    """What the page reported. Every test must end without a CSP report, an uncaught error or
    a dialog (checked at teardown, so a test that forgets still gets checked)."""
    found = watch(page)
    yield found
    assert found.csp_reports == []
    assert found.errors == []
    assert found.dialogs == []
