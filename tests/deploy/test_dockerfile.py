"""The Dockerfile and its entrypoint: slim, non-root, static files built, migrations at start."""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy import (
    command_args,
    copy_build_context,
    dockerfile_arg_names,
    dockerfile_args,
    dockerfile_env,
    dockerignore_patterns,
    dockerignored,
    image_path_to_repo,
    service,
)

APP_SERVICES = ("web", "worker", "send-worker", "beat")


@pytest.fixture(scope="module")
def build_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `docker build .` gets: the repository less what .dockerignore leaves out."""
    return copy_build_context(tmp_path_factory.mktemp("context") / "app")


# --- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_uses_python_311_slim() -> None:
    assert dockerfile_args("FROM")[0].split()[0] == "python:3.11-slim"


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = dockerfile_args("USER")
    assert users, "the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def collectstatic_run() -> str:
    runs = [args for args in dockerfile_args("RUN") if "manage.py collectstatic" in args]
    assert runs, "the Dockerfile does not run collectstatic"
    return runs[0]


def test_dockerfile_keeps_build_secrets_out_of_the_image() -> None:
    baked = set(dockerfile_env()) | dockerfile_arg_names()
    assert {"SECRET_KEY", "MAIL_ENCRYPTION_KEYS"} & baked == set()
    assert "SECRET_KEY=" in collectstatic_run()
    assert "MAIL_ENCRYPTION_KEYS=" in collectstatic_run()


def test_dockerfile_collectstatic_works_with_its_build_values(
    tmp_path: Path, build_context: Path
) -> None:
    words = collectstatic_run().split("&&")[0].split()
    assignments = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
    command = words[len(assignments) :]
    assert command[:2] == ["python", "manage.py"] and "--noinput" in command
    environment = {
        **dockerfile_env(),
        **assignments,
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATA_DIR": str(tmp_path / "data"),
        "MAIL_STORAGE_DIR": str(tmp_path / "messages"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, *command[1:]],
        cwd=build_context,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "static" / "staticfiles.json").is_file()


def dockerfile_entrypoint() -> list[str]:
    entrypoints = dockerfile_args("ENTRYPOINT")
    assert entrypoints, "the Dockerfile has no ENTRYPOINT"
    return json.loads(entrypoints[-1])


def test_dockerfile_entrypoint_file_is_in_the_image(build_context: Path) -> None:
    scripts = [image_path_to_repo(arg, build_context) for arg in dockerfile_entrypoint()]
    files = [path for path in scripts if path is not None]
    assert files and all(path.is_file() for path in files), dockerfile_entrypoint()


def test_files_the_services_run_are_in_the_image(build_context: Path) -> None:
    for name in APP_SERVICES:
        words = [*command_args(name), *map(str, service(name)["healthcheck"]["test"])]
        for word in words:
            if re.match(r"^/\S+\.(py|sh)$", word):
                path = image_path_to_repo(word, build_context)
                assert path and path.is_file(), f"{name}: {word} is not in the image"


@pytest.mark.parametrize(
    "path", [".env", ".env.local", ".git", ".venv", ".cache", "data", "staticfiles", "db.sqlite3"]
)
def test_dockerignore_keeps_secrets_and_local_state_out(path: str) -> None:
    assert dockerignored(path, dockerignore_patterns())


@pytest.mark.parametrize(
    "path", ["manage.py", "pyproject.toml", "webmail/settings.py", "docker/entrypoint.sh"]
)
def test_build_context_has_what_the_image_needs(build_context: Path, path: str) -> None:
    assert (build_context / path).is_file()


# --- The entrypoint, run with stand-ins for python and the services -----------------------


def stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_entrypoint(tmp_path: Path, command: list[str], python_fails: bool = False) -> str:
    """Runs docker/entrypoint.sh; returns the log of what it ran, and its exit status."""
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir(exist_ok=True)
    stub(bin_dir, "python", f'echo "python $*" >> {log}; exit {1 if python_fails else 0}')
    stub(bin_dir, "gunicorn", f'echo "gunicorn $*" >> {log}')
    stub(bin_dir, "celery", f'echo "celery $*" >> {log}')
    script = image_path_to_repo(dockerfile_entrypoint()[-1])
    assert script is not None
    result = subprocess.run(
        ["/bin/sh", str(script), *command],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    ran = log.read_text() if log.exists() else ""
    return f"{ran}exit {result.returncode}\n"


def test_entrypoint_migrates_then_starts_the_web_service(tmp_path: Path) -> None:
    ran = run_entrypoint(tmp_path, command_args("web"))
    assert ran.splitlines()[0] == "python manage.py migrate --noinput"
    assert ran.splitlines()[1].startswith("gunicorn webmail.wsgi")
    assert ran.endswith("exit 0\n")


@pytest.mark.parametrize("name", ["worker", "send-worker", "beat"])
def test_entrypoint_does_not_migrate_for_celery(tmp_path: Path, name: str) -> None:
    ran = run_entrypoint(tmp_path, command_args(name))
    assert ran.splitlines()[0].startswith("celery -A webmail")
    assert "migrate" not in ran


def test_entrypoint_stops_when_migrations_fail(tmp_path: Path) -> None:
    ran = run_entrypoint(tmp_path, command_args("web"), python_fails=True)
    assert "gunicorn" not in ran
    assert not ran.endswith("exit 0\n")
