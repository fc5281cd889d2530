"""Fixtures of the account tests: a local OAuth provider standing in for Google and Microsoft."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.accounts.oauth_support import SITE_URL
from tests.harness.oauth_authorization import CLIENT_ID, CLIENT_SECRET, AuthorizationServer


@pytest.fixture
def provider(
    authorization_server: AuthorizationServer, settings: Any, tmp_path: Path
) -> Iterator[AuthorizationServer]:
    """The local server as both Google and Microsoft, the app registered at it."""
    authorization_server.reset()
    settings.OAUTH_PROVIDERS_FILE = authorization_server.data_file(tmp_path / "providers.json")
    settings.SITE_URL = SITE_URL
    for name in ("GOOGLE", "MICROSOFT"):
        setattr(settings, f"OAUTH_{name}_CLIENT_ID", CLIENT_ID)
        setattr(settings, f"OAUTH_{name}_CLIENT_SECRET", CLIENT_SECRET)
    yield authorization_server
