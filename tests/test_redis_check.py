"""Starting without Redis says so in one line, with the fix, and no traceback."""

import os
import subprocess
import sys
from pathlib import Path

from tests.harness.ports import free_port

PROJECT_DIR = Path(__file__).resolve().parents[1]


def run_check(redis_url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="webmail.settings")
    env.update(DEBUG="true", DATABASE_URL="sqlite:///:memory:")
    return subprocess.run(
        [sys.executable, "manage.py", "check_redis"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_it_explains_in_one_line_that_redis_is_down() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"

    result = run_check(url)

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Redis is not reachable at {url}")
    assert "REDIS_URL" in lines[0] and "redis-server" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_it_hides_the_password_and_passes_when_redis_answers(private_redis) -> None:
    redis = private_redis()

    result = run_check(redis.url)

    assert result.returncode == 0, result.stderr
    assert "Redis answers" in result.stdout


def test_it_never_prints_the_password_of_a_url() -> None:
    result = run_check(f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0")

    assert result.returncode == 1
    assert "s3cret-pass" not in result.stderr
