"""Production settings: `check --deploy` is clean, and bad secrets stop the start loudly.

Each test runs manage.py (or gunicorn) in a subprocess with a clean environment (PATH and HOME
only, plus what the test sets), the way a container starts. WEBMAIL_ENV_FILE points at an
empty file so that a developer's .env cannot change the outcome.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.deploy import (
    REPO,
    command_args,
    env_example_values,
    interpolate,
    service_environment,
)
from tests.harness.ports import free_port, wait_for_port

SITE_URL = "https://mail.example.test"
VENV_BIN = str(Path(sys.executable).parent)


def clean_environment(tmp_path: Path, **values: str) -> dict[str, str]:
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.touch()
    return {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "WEBMAIL_ENV_FILE": str(empty_env_file),
        "DJANGO_SETTINGS_MODULE": "webmail.settings",
        **values,
    }


def production_environment(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    values = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "MAIL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SITE_URL": SITE_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'webmail.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DATA_DIR": str(tmp_path / "data"),
        **overrides,
    }
    return clean_environment(tmp_path, **{k: v for k, v in values.items() if v is not None})


def manage(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_check_deploy_clean(environment: dict[str, str]) -> None:
    result = manage(environment, "check", "--deploy", "--fail-level", "WARNING")
    report = f"{result.stdout}{result.stderr}"
    assert result.returncode == 0, report
    assert "System check identified no issues" in result.stdout, report


def assert_start_refused(environment: dict[str, str], variable: str) -> None:
    result = manage(environment, "check")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert variable in last_line


# --- check --deploy ------------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_defaults(tmp_path: Path) -> None:
    assert_check_deploy_clean(production_environment(tmp_path))


def test_check_deploy_is_clean_with_the_documented_compose_configuration(tmp_path: Path) -> None:
    # What the web container gets from a .env made from .env.example, secrets filled in.
    env_file = env_example_values() | {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "MAIL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "POSTGRES_PASSWORD": secrets.token_hex(32),
    }
    container = service_environment("web", env_file)
    assert container["DATABASE_URL"].startswith("postgres://")
    assert_check_deploy_clean(clean_environment(tmp_path, **container))


def test_check_deploy_reports_an_insecure_setting(tmp_path: Path) -> None:
    result = manage(
        production_environment(tmp_path, SESSION_COOKIE_SECURE="false"),
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode != 0
    assert "security.W012" in result.stderr


# --- Secrets that stop the start ------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_start_refused_without_secret_key(tmp_path: Path, value: str | None) -> None:
    environment = production_environment(tmp_path, SECRET_KEY=value)
    assert_start_refused(environment, "SECRET_KEY")


@pytest.mark.parametrize(
    "value",
    [None, "not-a-fernet-key", f"{Fernet.generate_key().decode()},not-a-fernet-key"],
    ids=["unset", "malformed", "second-malformed"],
)
def test_start_refused_with_bad_encryption_keys(tmp_path: Path, value: str | None) -> None:
    environment = production_environment(tmp_path, MAIL_ENCRYPTION_KEYS=value)
    assert_start_refused(environment, "MAIL_ENCRYPTION_KEYS")


def test_secrets_from_files(tmp_path: Path) -> None:
    secret_key, encryption_key = secrets.token_urlsafe(50), Fernet.generate_key().decode()
    (tmp_path / "secret_key").write_text(f"{secret_key}\n")
    (tmp_path / "encryption_keys").write_text(f"{encryption_key}\n")
    environment = production_environment(
        tmp_path,
        SECRET_KEY=None,
        SECRET_KEY_FILE=str(tmp_path / "secret_key"),
        MAIL_ENCRYPTION_KEYS=None,
        MAIL_ENCRYPTION_KEYS_FILE=str(tmp_path / "encryption_keys"),
    )
    code = "from django.conf import settings as s; print(s.SECRET_KEY, *s.MAIL_ENCRYPTION_KEYS)"
    result = manage(environment, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [secret_key, encryption_key]


def test_start_refused_with_an_unreadable_secret_file(tmp_path: Path) -> None:
    environment = production_environment(
        tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(tmp_path / "missing")
    )
    assert_start_refused(environment, "SECRET_KEY_FILE")


# --- The web container's healthcheck against the real web command ---------------------------


def healthz(environment: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "docker" / "healthz.py"), str(port)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=20,
    )


def web_command(port: int) -> list[str]:
    """docker-compose.yml's web command, on a loopback port with one worker."""
    args = [interpolate(arg, {}) for arg in command_args("web")]
    args = [arg for arg in args if not arg.startswith(("--bind", "--workers"))]
    return [*args, f"--bind=127.0.0.1:{port}", "--workers=1"]


@pytest.fixture(scope="module")
def production_web(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, str], int]]:
    """gunicorn serving the app with production settings; yields its environment and port."""
    environment = production_environment(tmp_path_factory.mktemp("web"))
    port = free_port()
    server = subprocess.Popen(
        web_command(port),
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        yield environment, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_healthcheck_passes_over_plain_http_with_production_settings(
    production_web: tuple[dict[str, str], int],
) -> None:
    environment, port = production_web
    result = healthz(environment, port)
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_when_the_app_refuses_the_host(
    production_web: tuple[dict[str, str], int],
) -> None:
    environment, port = production_web
    result = healthz({**environment, "ALLOWED_HOSTS": "elsewhere.example.test"}, port)
    assert result.returncode == 1
    assert "400" in result.stderr


def test_healthcheck_fails_when_nothing_listens(tmp_path: Path) -> None:
    result = healthz(production_environment(tmp_path), free_port())
    assert result.returncode == 1
    assert "unreachable" in result.stderr
