"""What the mail-server harness modules share: installing, running commands, owners, pids, logs."""

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.harness.ports import wait_for_port

INSTALL_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-system-deps.sh"
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


class MailServerError(RuntimeError):
    """A test mail server could not be configured, started or stopped."""


def missing_packages() -> list[str]:
    """What of Dovecot (IMAP, POP3, LMTP) and Postfix is not installed."""
    missing = [name for name in ("dovecot", "postfix", "doveadm", "postmap") if not _which(name)]
    for part in ("imap", "pop3", "lmtp"):
        if not Path(f"/usr/lib/dovecot/{part}").exists():
            missing.append(f"dovecot {part}")
    return missing


def _which(name: str) -> str | None:
    # Root's PATH may lack the sbin folders (cron, some CI runners).
    return shutil.which(name) or shutil.which(name, path=SYSTEM_PATH)


def ensure_installed() -> None:
    """Installs Dovecot and Postfix with scripts/install-system-deps.sh when missing (root only)."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise MailServerError(f"not installed: {', '.join(missing)}; run {INSTALL_SCRIPT} as root")
    output = run(["bash", str(INSTALL_SCRIPT)], f"installing {', '.join(missing)}", timeout=900)
    if missing_packages():
        raise MailServerError(f"{INSTALL_SCRIPT} left {missing_packages()} missing: {output}")


def run(command: list[str], what: str, timeout: float = 30.0) -> str:
    """Runs a server's own command; its output goes into the error when it fails.

    The output goes through a file, not a pipe: a daemon that forks would keep a pipe open.
    """
    command = [_which(command[0]) or command[0], *command[1:]]
    with tempfile.TemporaryFile() as out:
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise MailServerError(f"{what}: {' '.join(command)} failed: {exc}") from exc
        out.seek(0)
        output = out.read().decode(errors="replace")
    if done.returncode != 0:
        raise MailServerError(f"{what}: {' '.join(command)} exited {done.returncode}: {output}")
    return output


def ids_of(user: str) -> tuple[int, int]:
    """The uid and primary gid of a system user."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise MailServerError(
            f"system user {user!r} is missing (is the package installed?)"
        ) from exc
    return entry.pw_uid, entry.pw_gid


def ensure_system_user(user: str, home: str = "/nonexistent") -> tuple[int, int]:
    """Creates a system user without login (owner of the test mail) unless it exists."""
    try:
        return ids_of(user)
    except MailServerError:
        pass
    # Another test run may create it at the same moment: the lookup afterwards decides.
    with contextlib.suppress(MailServerError):
        run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", home]
            + ["--shell", "/usr/sbin/nologin", user],
            f"creating system user {user}",
        )
    return ids_of(user)


def gid_of(group: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise MailServerError(f"system group {group!r} is missing") from exc


def make_dir(path: Path, owner: tuple[int, int] | None = None, mode: int = 0o755) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    if owner is not None:
        os.chown(path, *owner)
    return path


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _live_processes() -> Iterator[tuple[int, int]]:
    """(pid, process group) of every process that is not a zombie."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        if fields[0] != "Z":
            yield int(stat.parent.name), int(fields[2])


def is_running(pid: int) -> bool:
    """True while the process lives (a zombie, ended but not yet reaped, counts as ended)."""
    return any(live == pid for live, _ in _live_processes())


def group_is_running(pgid: int) -> bool:
    return any(group == pgid for _, group in _live_processes())


def terminate(pid: int, what: str, timeout: float = 10.0) -> None:
    """Stops one server's own master process and waits until it and its children have gone.

    A master that leads its own process group (both Dovecot's and Postfix's call setsid) gets
    the signal for the whole group: every child stops at once, instead of one by one after the
    master's shutdown round (a second or more for Dovecot), and no child is left holding the
    lock that makes the next `postfix start` think Postfix still runs.
    """
    try:
        leads_group = os.getpgid(pid) == pid
        if leads_group:
            os.killpg(pid, signal.SIGTERM)
        else:
            os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while group_is_running(pid) if leads_group else is_running(pid):
        if time.monotonic() > deadline:
            raise MailServerError(f"{what} (pid {pid}) did not stop within {timeout}s")
        time.sleep(0.02)


def wait_for_ports(host_ports: list[tuple[str, int]], what: str, log: Path, timeout: float) -> None:
    try:
        for host, port in host_ports:
            wait_for_port(host, port, timeout=timeout)
    except TimeoutError as exc:
        raise MailServerError(f"{what} did not start: {exc}\n{log_tail(log)}") from exc


def port_is_closed(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except OSError:
        return True


def check_bindable(host: str, ports: list[int]) -> None:
    """Fails clearly when a fixed port of host is taken (before a server fails cryptically)."""
    taken = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                taken.append(port)
    if taken:
        raise MailServerError(
            f"ports {taken} on {host} are already taken (another test run's mail servers, or a "
            f"system Dovecot/Postfix?); see `ss -ltnp` and stop whatever holds them"
        )


def log_tail(log: Path, lines: int = 25) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {log})"
    return f"last lines of {log}:\n" + "\n".join(text[-lines:])
