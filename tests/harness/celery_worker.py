"""A real Celery worker process for task tests.

The worker runs the project's Celery app with the test settings, pointed at the test
database that pytest-django created and at this run's Redis database and key prefix (both
inherited through the environment), so it sees the rows a `transaction=True` test commits.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery

PROJECT_DIR = Path(__file__).resolve().parents[2]


class CeleryWorker:
    def __init__(
        self,
        app: Celery,
        *,
        database_name: str,
        log_file: Path,
        queues: tuple[str, ...] = ("default", "sync", "send"),
        concurrency: int = 2,
        name: str = "test",
    ) -> None:
        self.app = app
        self.database_name = database_name
        self.log_file = log_file
        self.queues = queues
        self.concurrency = concurrency
        self.node_name = f"{name}-{os.getpid()}@localhost"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        env["WEBMAIL_TEST_WORKER_DB"] = self.database_name
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webmail",
            "worker",
            "--queues",
            ",".join(self.queues),
            "--concurrency",
            str(self.concurrency),
            "--hostname",
            self.node_name,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            # Tasks that exist for the tests only (never shipped in the product).
            "--include",
            "tests.tasks.crash_tasks",
        ]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited; see {self.log_file}:\n{self.log()}")
            if self.app.control.ping(destination=[self.node_name], timeout=0.5):
                return
        raise TimeoutError(f"the Celery worker did not answer within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown: the worker finishes what it is running, then exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Kills the worker and its pool children at once, as a crash or OOM would."""
        if self.process is None or self.process.poll() is not None:
            return
        children = _child_pids(self.process.pid)
        self.process.kill()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def _child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in children.read_text().split()]
    except OSError:
        return []
