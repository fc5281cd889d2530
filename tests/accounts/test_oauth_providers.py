"""OAuth providers as configuration: the shipped data file, the operator's settings."""

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from accounts.discovery.providers import load_providers
from accounts.oauth import client as oauth
from accounts.oauth.providers import load_oauth_providers
from accounts.services.oauth import availability, client_for
from tests.harness.certs import TestCA
from tests.harness.oauth_authorization import CLIENT_ID, CLIENT_SECRET, AuthorizationServer
from tests.harness.oauth_server import OAuthServer
from tests.test_protocol_layer_isolation import imported_modules

SHIPPED = load_oauth_providers(Path(django_settings.OAUTH_PROVIDERS_FILE))


def test_google_and_microsoft_are_described_with_their_endpoints_and_scopes() -> None:
    google, microsoft = SHIPPED["google"], SHIPPED["microsoft"]

    assert google.token_endpoint == "https://oauth2.googleapis.com/token"
    # openid + email: the ID token names the account that consented (checked on the callback).
    assert google.scopes == ("https://mail.google.com/", "openid", "email")
    assert dict(google.authorization_params) == {"access_type": "offline", "prompt": "consent"}
    # "common": personal Microsoft accounts and work or school ones alike.
    assert microsoft.authorization_endpoint.startswith("https://login.microsoftonline.com/common/")
    assert microsoft.scopes == (
        "offline_access",
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
    )


def test_each_entry_is_named_by_the_table_and_its_settings_exist() -> None:
    named = {p.oauth for p in load_providers() if p.oauth}

    # Yahoo and AOL are named too but have no entry yet: they are simply unavailable.
    assert set(SHIPPED) == {"google", "microsoft"} and set(SHIPPED) <= named
    for entry in SHIPPED.values():
        assert hasattr(django_settings, entry.client_id_setting)
        assert hasattr(django_settings, entry.client_secret_setting)


def test_a_provider_without_credentials_is_unavailable(settings: Any) -> None:
    settings.OAUTH_GOOGLE_CLIENT_ID, settings.OAUTH_GOOGLE_CLIENT_SECRET = "id", ""
    settings.OAUTH_MICROSOFT_CLIENT_ID, settings.OAUTH_MICROSOFT_CLIENT_SECRET = "id", "secret"

    assert availability("google").is_available is False  # type: ignore[union-attr]
    assert availability("microsoft").is_available is True  # type: ignore[union-attr]
    assert availability("yahoo") is None
    assert client_for("google") is None


def test_an_endpoint_over_plain_http_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "providers.json"
    data.write_text(
        '{"oauth": {"x": {"name": "X", "authorization_endpoint": "http://x.test/a",'
        ' "token_endpoint": "https://x.test/t", "scopes": ["mail"],'
        ' "client_id_setting": "A", "client_secret_setting": "B"}}}'
    )

    with pytest.raises(ValueError, match="https"):
        load_oauth_providers(data)


def test_a_token_endpoint_with_an_untrusted_certificate_is_not_used(
    oauth_server: OAuthServer, test_ca: TestCA, tmp_path: Path, settings: Any
) -> None:
    stranger = AuthorizationServer(oauth_server, TestCA(tmp_path / "other-ca")).start()
    try:
        found = load_oauth_providers(stranger.data_file(tmp_path / "providers.json"))["google"]
        client = oauth.Client(found, CLIENT_ID, CLIENT_SECRET, "https://webmail.example.test/")
        with pytest.raises(oauth.TokenRequestFailed):
            oauth.refresh(client, refresh_token=stranger.issue_refresh_token("a@b.test"), timeout=5)
        assert stranger.token_requests == []
    finally:
        stranger.stop()


def test_the_oauth_client_knows_nothing_of_django() -> None:
    package = Path(__file__).resolve().parents[2] / "accounts" / "oauth"
    files = sorted(package.glob("*.py"))
    assert files
    for path in files:
        for name in imported_modules(path):
            root = name.split(".")[0]
            assert root not in {"django", "mailbox", "webmail", "celery"}, f"{path}: {name}"
            if root == "accounts":
                assert name.startswith("accounts.oauth"), f"{path}: {name}"
