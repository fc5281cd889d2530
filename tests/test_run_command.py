"""The README's run command: sets up, starts web + workers + beat, and says how to sign in."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.harness.ports import free_port

PROJECT_DIR = Path(__file__).resolve().parents[1]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a person's shell: none of the test suite's settings leak in."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(
        WEBMAIL_ENV_FILE=str(tmp_path / ".env"),
        DATA_DIR=str(tmp_path / "data"),
        WEBMAIL_PORT=str(free_port()),
        REDIS_URL=os.environ["REDIS_URL"],
        CELERY_KEY_PREFIX=f"runcmd{os.getpid()}.",
        CACHE_KEY_PREFIX=f"runcmd{os.getpid()}",
    )
    env.update(extra)
    return env


def read_until(process: subprocess.Popen[str], pattern: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(seen)[-3000:]}")


def celery_nodes(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "webmail", "inspect", "active_queues", "-t", "5"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout


@pytest.mark.timeout(240)
def test_it_runs_web_workers_and_beat_and_prints_a_sign_in_hint(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        line = read_until(process, r"Webmail is running at", timeout=180)
        # Keep reading, so the processes never block on a full pipe.
        threading.Thread(target=process.stdout.read, daemon=True).start()  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{env['WEBMAIL_PORT']}"
        assert url in line
        password = re.search(r"as 'admin' with password (\S+)", line)
        assert password, line
        assert (tmp_path / "data" / "first-admin-password.txt").read_text().strip() == password[1]

        with urllib.request.urlopen(f"{url}/admin/login/", timeout=10) as response:
            assert response.status == 200
            assert b"Log in" in response.read()

        # Both workers run, and only the dedicated one consumes the send queue.
        env_with_python = dict(env, PATH=f"{PROJECT_DIR / '.venv' / 'bin'}:{env['PATH']}")
        deadline = time.monotonic() + 60
        queues = ""
        while time.monotonic() < deadline and not ("send@" in queues and "worker@" in queues):
            queues = celery_nodes(env_with_python)
        send_part = queues.split("send@", 1)[1].split("->", 1)[0]
        worker_part = queues.split("worker@", 1)[1].split("->", 1)[0]
        assert "'name': 'send'" in send_part and "'name': 'sync'" not in send_part
        assert "'name': 'sync'" in worker_part and "'name': 'send'" not in worker_part
    finally:
        press_ctrl_c(process)
    # Stopping the command stops everything it started: no worker or beat lives on (the
    # Procfile execs each command: a shell in between died and left its celery running).
    leftover = wait_gone(started_with(f"WEBMAIL_ENV_FILE={env['WEBMAIL_ENV_FILE']}"), 30)
    described = [describe(pid) for pid in leftover]
    for pid in leftover:  # ours: this run started them
        os.kill(pid, signal.SIGKILL)
    assert leftover == [], "\n".join(described)


def started_with(marker: str) -> list[int]:
    """The pids of processes whose environment holds `marker` (a run's own .env path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker.encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def describe(pid: int) -> str:
    """A process as ps shows it: pid, parent, group, state, command line."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid}: gone"
    return f"{pid} parent {stat[1]} group {stat[2]} state {stat[0]}: {command[:200]}"


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after `seconds` (zombies count as gone)."""
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if _running(pid)]
    return alive


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def press_ctrl_c(process: subprocess.Popen[str]) -> None:
    """What Ctrl-C in a terminal does: SIGINT to the whole foreground process group."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_it_says_in_one_line_when_redis_is_down(tmp_path: Path) -> None:
    env = clean_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    result = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    problem = [line for line in result.stderr.splitlines() if "Redis" in line]
    assert len(problem) == 1 and "REDIS_URL" in problem[0], result.stderr
