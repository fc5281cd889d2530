"""A private redis-server child process, so a test can stop or restart "the broker".

The machine's shared Redis (127.0.0.1:6379) is never touched: this one has its own port and
folder, keeps nothing on disk (`--save "" --appendonly no`) and is stopped by its pid.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.harness.ports import free_port

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def _answers_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class PrivateRedis:
    """redis-server on `host` and a free port (kept across restarts), data only in memory."""

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        executable: str = "redis-server",
    ) -> None:
        self.folder = folder
        self.host = host
        self.port = port or free_port(host)
        self.executable = shutil.which(executable) or executable
        self._process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_file(self) -> Path:
        return self.folder / "redis.log"

    def start(self) -> "PrivateRedis":
        if self.running:
            return self
        # fmt: off
        command = [
            self.executable,
            "--bind", self.host,
            "--port", str(self.port),
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.log_file),
        ]
        # fmt: on
        # Output goes to a file: a pipe nobody reads could fill up and block the server.
        with (self.folder / "redis.stderr").open("ab") as output:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_ping(self.host, self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited early: {self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"redis-server not ready after {START_TIMEOUT}s")
            time.sleep(0.02)

    def _log_tail(self) -> str:
        text = ""
        for path in (self.folder / "redis.stderr", self.log_file):
            if path.exists():
                text += path.read_text(errors="replace")
        return text[-2000:]

    def stop(self) -> None:
        """Terminates our redis-server (SIGTERM to its pid, SIGKILL if it lingers)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)

    def restart(self, down_for: float = 0.0) -> "PrivateRedis":
        """Stops and starts again on the same port, `down_for` seconds later; the data is gone
        (nothing persisted)."""
        self.stop()
        time.sleep(down_for)
        return self.start()

    def __enter__(self) -> "PrivateRedis":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
