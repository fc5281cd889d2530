"""A real Celery worker process for task tests.

The worker runs the project's Celery app with the test settings, pointed at the test
database that pytest-django created and at this run's Redis database and key prefix (both
inherited through the environment), so it sees the rows a `transaction=True` test commits.
`broker_url` points a worker at another Redis instead (a private one a test restarts); the
test then talks to it through `app_on_broker(app, url)`.
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
        broker_url: str | None = None,
    ) -> None:
        """`broker_url`: the worker's broker and result backend (else the run's Redis); `app`
        must then be configured for the same one, since the readiness ping goes through it."""
        self.app = app
        self.broker_url = broker_url
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
        if self.broker_url is not None:
            env["CELERY_BROKER_URL"] = env["CELERY_RESULT_BACKEND"] = self.broker_url
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
            # A new connection each time: a pooled one may be dead (a test restarted Redis).
            with self.app.connection_for_write() as connection:
                if self.app.control.ping([self.node_name], timeout=0.5, connection=connection):
                    return
        self.kill()  # not left running (consuming) after the test gave up on it
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

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def app_on_broker(app: Celery, url: str) -> Celery:
    """A copy of `app` (the project's settings, queues, routes) whose broker and result backend
    are the Redis at `url`: how a test sends tasks to, pings and reads results from a worker
    started with `CeleryWorker(..., broker_url=url)`. Celery 5.6 reads the result backend from
    the Django settings over this: the caller also sets CELERY_RESULT_BACKEND in os.environ
    (which Celery reads first) for the test's duration."""
    copy = Celery(app.main, set_as_current=False)
    copy.config_from_object("django.conf:settings", namespace="CELERY")
    changes = {
        key: value for key, value in app.conf.changes.items() if key != "deprecated_settings"
    }
    # Namespaced names: the Django settings' own CELERY_BROKER_URL would win over broker_url.
    copy.conf.update(changes, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url)
    return copy


def _child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in children.read_text().split()]
    except OSError:
        return []
