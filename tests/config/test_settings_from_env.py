"""Settings come from the environment: each variable does what .env.example says."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-variety-0123456789",
    "MAIL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=",
}


def settings_seen(**env: str) -> dict[str, object]:
    """Loads webmail.settings in a fresh process with only `env` set, and reports values."""
    probe = (
        "import json, django; from django.conf import settings as s; django.setup();"
        "print(json.dumps({k: getattr(s, k, None) for k in ("
        "'ALLOWED_HOSTS','CSRF_TRUSTED_ORIGINS','SECURE_PROXY_SSL_HEADER','TRUSTED_PROXY_IPS',"
        "'SITE_URL','SECURE_SSL_REDIRECT','SESSION_COOKIE_SECURE','DEBUG','TIME_ZONE',"
        "'MAIL_MAX_UPLOAD_MB','MAIL_SYNC_INTERVAL_SECONDS')}, default=str))"
    )
    clean = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    clean.update(DJANGO_SETTINGS_MODULE="webmail.settings", WEBMAIL_ENV_FILE="/nonexistent")
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_site_url_sets_hosts_and_trusted_origins() -> None:
    seen = settings_seen(**PRODUCTION, SITE_URL="https://mail.example.test")

    assert seen["ALLOWED_HOSTS"] == ["mail.example.test"]
    assert seen["CSRF_TRUSTED_ORIGINS"] == ["https://mail.example.test"]
    assert seen["SITE_URL"] == "https://mail.example.test"


def test_production_is_secure_by_default() -> None:
    seen = settings_seen(**PRODUCTION)

    assert seen["DEBUG"] is False
    assert seen["SECURE_SSL_REDIRECT"] is True
    assert seen["SESSION_COOKIE_SECURE"] is True
    assert seen["SECURE_PROXY_SSL_HEADER"] is None


def test_reverse_proxy_settings() -> None:
    seen = settings_seen(
        **PRODUCTION,
        USE_X_FORWARDED_PROTO="true",
        TRUSTED_PROXY_IPS="10.0.0.2,10.0.0.3",
        CSRF_TRUSTED_ORIGINS="https://mail.example.test,https://webmail.example.test",
    )

    assert seen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["TRUSTED_PROXY_IPS"] == ["10.0.0.2", "10.0.0.3"]
    assert seen["CSRF_TRUSTED_ORIGINS"] == [
        "https://mail.example.test",
        "https://webmail.example.test",
    ]


def test_limits_and_delays_are_read_from_the_environment() -> None:
    seen = settings_seen(
        **PRODUCTION,
        MAIL_MAX_UPLOAD_MB="7",
        MAIL_SYNC_INTERVAL_SECONDS="30",
        TIME_ZONE="Europe/Berlin",
    )

    assert seen["MAIL_MAX_UPLOAD_MB"] == 7
    assert seen["MAIL_SYNC_INTERVAL_SECONDS"] == 30
    assert seen["TIME_ZONE"] == "Europe/Berlin"


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file-" + "k" * 50 + "\n")
    env = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}

    seen = settings_seen(**env, SECRET_KEY_FILE=str(secret))

    assert seen["DEBUG"] is False  # it loaded: SECRET_KEY came from the file


@pytest.mark.both_databases
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode() -> None:
    if connection.vendor != "sqlite":
        assert settings.DATABASES["default"].get("CONN_HEALTH_CHECKS") is True
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
