"""A private Dovecot + Postfix pair on loopback, with users, seeding and mailbox reading.

    servers = MailServers(Path(tempfile.mkdtemp(prefix="wm-", dir="/tmp")), ca)
    servers.start()
    alice = servers.add_user("alice@example.test", "secret")
    servers.seed(alice.address, [message_bytes], folder="Sent", flags=["\\Seen"])
    servers.messages(alice.address)        # what IMAP shows, for assertions
    servers.stop()

Needs root (Postfix always does; Dovecot needs it for the mail user) and the Debian packages
that scripts/install-system-deps.sh installs. Plain Python: no Django, no pytest.
"""

import imaplib
import os
import re
import ssl
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.harness.certs import TestCA
from tests.harness.daemons import (
    MailServerError,
    check_bindable,
    ensure_installed,
    ensure_system_user,
    ids_of,
    missing_packages,
    port_is_closed,
)
from tests.harness.dovecot import (
    SPECIAL_USE,
    STANDARD_PORTS,
    Dovecot,
    DovecotPorts,
    DovecotSettings,
)
from tests.harness.maildir import MaildirWriter, flag_suffix, folder_dir
from tests.harness.ports import free_ports
from tests.harness.postfix import (
    STANDARD_SUBMISSION,
    STANDARD_SUBMISSIONS,
    Postfix,
    PostfixPorts,
    PostfixSettings,
)

__all__ = [
    "MailEndpoints",
    "MailServerError",
    "MailServerOptions",
    "MailServers",
    "MailUser",
    "StoredMessage",
    "ensure_installed",
    "missing_packages",
]

MAX_FOLDER_LENGTH = 60  # Unix socket paths below it must stay under ~100 bytes
PROTOCOLS = ("imap", "imaps", "pop3", "pop3s", "submission", "submissions", "smtp")
STANDARD_PORT_NUMBERS = (
    STANDARD_PORTS.imap,
    STANDARD_PORTS.imaps,
    STANDARD_PORTS.pop3,
    STANDARD_PORTS.pop3s,
    STANDARD_SUBMISSION,
    STANDARD_SUBMISSIONS,
)


@dataclass(frozen=True)
class MailServerOptions:
    domains: tuple[str, ...] = ("example.test", "other.test")
    host: str = "127.0.0.1"
    # When set (e.g. STANDARD_HOST), also listen on 143/993, 110/995 and 587/465 of that address.
    standard_ports_host: str | None = None
    auth_failure_delay: int = 0  # seconds before Dovecot answers a wrong password
    hierarchy_separator: str = "/"
    message_size_limit: int = 25 * 1024 * 1024
    mail_user: str = "vmail"  # system user that owns all Maildirs (created if missing)
    # OAuth 2.0 sign-in (off by default): Dovecot, and Postfix through it, also accept bearer
    # tokens that this RFC 7662 introspection URL calls active (tests/harness/oauth_server.py),
    # over these SASL mechanisms.
    oauth_introspection_url: str | None = None
    oauth_mechanisms: tuple[str, ...] = ("oauthbearer", "xoauth2")


@dataclass(frozen=True)
class MailEndpoints:
    """Where the servers listen; clients trust `ca_file` and verify the host name or IP."""

    host: str
    imap_port: int  # STARTTLS
    imaps_port: int  # implicit TLS
    pop3_port: int  # STLS
    pop3s_port: int  # implicit TLS
    submission_port: int  # STARTTLS, AUTH required
    submissions_port: int  # implicit TLS, AUTH required
    smtp_port: int  # port-25 style: no AUTH, STARTTLS optional, test domains only
    ca_file: Path
    domains: tuple[str, ...]
    hierarchy_separator: str
    standard_ports_host: str | None  # IMAP 143/993, POP3 110/995, submission 587/465


@dataclass(frozen=True)
class MailUser:
    address: str
    password: str
    login: str  # the IMAP/POP3/SMTP user name (the address)


@dataclass(frozen=True)
class StoredMessage:
    """One message as IMAP returns it."""

    uid: int
    flags: frozenset[str]
    raw: bytes  # BODY[], exactly as the server sends it


class MailServers:
    """A private Dovecot and Postfix under `folder` (short: Unix socket paths are limited)."""

    def __init__(self, folder: Path, ca: TestCA, options: MailServerOptions | None = None) -> None:
        self.folder = folder
        self.ca = ca
        self.options = options or MailServerOptions()
        if len(str(folder)) > MAX_FOLDER_LENGTH:
            raise MailServerError(f"{folder} is too long for Unix sockets; use /tmp/wm-XXXX")
        if not self.options.domains:
            raise MailServerError("at least one mail domain is needed")
        self._users: dict[str, MailUser] = {}
        self._dovecot: Dovecot | None = None
        self._postfix: Postfix | None = None
        self._writer: MaildirWriter | None = None
        self._endpoints = self._choose_ports()

    def _choose_ports(self) -> MailEndpoints:
        o = self.options
        ports = free_ports(7, o.host)
        return MailEndpoints(
            o.host, *ports, self.ca.ca_file, tuple(d.lower() for d in o.domains),
            o.hierarchy_separator, o.standard_ports_host,
        )  # fmt: skip

    @property
    def endpoints(self) -> MailEndpoints:
        return self._endpoints

    @property
    def dovecot(self) -> Dovecot:
        if self._dovecot is None:
            raise MailServerError("the mail servers were never started")
        return self._dovecot

    @property
    def postfix(self) -> Postfix:
        if self._postfix is None:
            raise MailServerError("the mail servers were never started")
        return self._postfix

    # Life cycle ---------------------------------------------------------------------------

    def start(self) -> "MailServers":
        """Writes the configuration (first time) and starts Dovecot, then Postfix."""
        if os.geteuid() != 0:
            raise MailServerError("the test mail servers need root (Postfix's master does)")
        if self._dovecot is None:
            self._configure()
        self._check_ports()
        self.dovecot.start()
        try:
            self.postfix.start()
        except MailServerError:
            self.dovecot.stop()
            raise
        return self

    def _check_ports(self) -> None:
        # Postfix's own start-up errors are lost (its log daemon is not up yet): check first.
        e = self._endpoints
        check_bindable(e.host, [getattr(e, f"{name}_port") for name in PROTOCOLS])
        if e.standard_ports_host:
            check_bindable(e.standard_ports_host, list(STANDARD_PORT_NUMBERS))

    def _configure(self) -> None:
        e, o = self._endpoints, self.options
        owner = ensure_system_user(o.mail_user)
        ids_of("dovecot"), ids_of("dovenull"), ids_of("postfix")  # fail clearly if missing
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # Dovecot's and Postfix's unprivileged processes walk it
        cert = self.ca.issue(f"mail-{self.folder.name}")
        dovecot = Dovecot(
            self.folder / "dovecot",
            DovecotSettings(
                host=e.host,
                ports=DovecotPorts(e.imap_port, e.imaps_port, e.pop3_port, e.pop3s_port),
                cert=cert,
                mail_owner=owner,
                postmaster=f"postmaster@{e.domains[0]}",
                standard_ports_host=o.standard_ports_host,
                auth_failure_delay=o.auth_failure_delay,
                separator=o.hierarchy_separator,
                oauth_introspection_url=o.oauth_introspection_url,
                oauth_mechanisms=o.oauth_mechanisms,
            ),
        )
        postfix = Postfix(
            self.folder / "postfix",
            PostfixSettings(
                host=e.host,
                ports=PostfixPorts(e.smtp_port, e.submission_port, e.submissions_port),
                cert=cert,
                domains=e.domains,
                lmtp_socket=dovecot.lmtp_socket,
                auth_socket=dovecot.auth_socket,
                standard_ports_host=o.standard_ports_host,
                message_size_limit=o.message_size_limit,
            ),
        )
        self._dovecot, self._postfix = dovecot, postfix
        self._writer = MaildirWriter(owner)
        dovecot.write_config()
        postfix.write_config()

    def stop(self) -> None:
        """Stops Postfix, then Dovecot, by their own master pids; safe to call twice."""
        errors = []
        for server in (self._postfix, self._dovecot):
            if server is not None:
                try:
                    server.stop()
                except MailServerError as exc:
                    errors.append(str(exc))
        if errors:
            raise MailServerError("; ".join(errors))

    def restart(self) -> None:
        """Stops and starts both, on the same ports, with the same users and mail."""
        self.stop()
        self.start()

    def is_running(self) -> bool:
        e = self._endpoints
        return not port_is_closed(e.host, e.imaps_port) and not port_is_closed(
            e.host, e.submission_port
        )

    def __enter__(self) -> "MailServers":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Users and mail -------------------------------------------------------------------------

    def add_user(self, address: str, password: str) -> MailUser:
        """Creates a virtual user (or changes its password); SMTP, IMAP and POP3 know it at once."""
        address = address.lower()
        domain = address.rpartition("@")[2]
        if "@" not in address or domain not in self._endpoints.domains:
            raise MailServerError(f"{address} is not on a test domain {self._endpoints.domains}")
        user = MailUser(address=address, password=password, login=address)
        if self._users.get(address) != user:
            self.dovecot.set_password(address, password)
            self.postfix.add_mailbox(address)
            self._users[address] = user
        return user

    def user(self, address: str) -> MailUser:
        try:
            return self._users[address.lower()]
        except KeyError as exc:
            raise MailServerError(f"{address} was never added with add_user()") from exc

    def seed(
        self,
        address: str,
        messages: Sequence[bytes],
        folder: str = "INBOX",
        flags: Iterable[str] = (),
        per_message_flags: Sequence[Iterable[str]] | None = None,
    ) -> list[Path]:
        """Writes messages straight into a user's folder (created and subscribed if new).

        `flags` (e.g. ["\\Seen"]) apply to every message; `per_message_flags`, if given, has
        one entry per message instead. Messages keep their exact bytes; UIDs follow the order.
        """
        user = self.user(address)
        if per_message_flags is None:
            suffixes = [flag_suffix(flags)] * len(messages)
        else:
            suffixes = [flag_suffix(f) for f in per_message_flags]
        maildir = self.dovecot.home(user.login) / "Maildir"
        path = folder_dir(maildir, folder, self.options.hierarchy_separator)
        if not path.exists() and path != maildir and not self._is_special(folder):
            self.dovecot.doveadm("mailbox", "create", "-s", "-u", user.login, folder)
        writer = self._maildir_writer()
        writer.make_folder(path, is_subfolder=path != maildir)
        return writer.write(path, list(messages), suffixes)

    def _maildir_writer(self) -> MaildirWriter:
        if self._writer is None:
            raise MailServerError("the mail servers were never started")
        return self._writer

    def _is_special(self, folder: str) -> bool:
        # Dovecot creates and subscribes these itself (auto = subscribe).
        return folder in SPECIAL_USE

    # Reading mailboxes for assertions -----------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """What a well-behaved client uses: verification on, trusting only the test CA."""
        return ssl.create_default_context(cafile=str(self._endpoints.ca_file))

    @contextmanager
    def imap(self, address: str) -> Iterator[imaplib.IMAP4_SSL]:
        """A logged-in IMAP connection (implicit TLS) as a user added with add_user()."""
        user = self.user(address)
        e = self._endpoints
        client = imaplib.IMAP4_SSL(e.host, e.imaps_port, ssl_context=self.ssl_context(), timeout=10)
        try:
            client.login(user.login, user.password)
            yield client
        finally:
            with suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def messages(self, address: str, folder: str = "INBOX") -> list[StoredMessage]:
        """Every message of a folder, in UID order, as IMAP returns it (without setting \\Seen)."""
        with self.imap(address) as client:
            return _fetch_all(client, folder)

    def wait_for_messages(
        self, address: str, count: int, folder: str = "INBOX", timeout: float = 10.0
    ) -> list[StoredMessage]:
        """Polls until the folder holds at least `count` messages; returns them."""
        deadline = time.monotonic() + timeout
        with self.imap(address) as client:
            while (held := _message_count(client, folder)) < count:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{address}/{folder} holds {held} messages, not {count}, after "
                        f"{timeout}s; Postfix queue empty: {self.postfix_queue_is_empty()}"
                    )
                time.sleep(0.05)
            return _fetch_all(client, folder)

    def postfix_queue_is_empty(self) -> bool:
        return self.postfix.queue_is_empty()

    def wait_for_empty_queue(self, timeout: float = 10.0) -> None:
        """Returns once Postfix has handed every accepted message on (delivered or bounced)."""
        deadline = time.monotonic() + timeout
        while not self.postfix_queue_is_empty():
            if time.monotonic() > deadline:
                raise TimeoutError(f"Postfix still has queued mail after {timeout}s")
            time.sleep(0.05)

    def logs(self) -> str:
        """Both servers' log files, for a failing test's report."""
        logs = [server.log for server in (self._dovecot, self._postfix) if server is not None]
        return "\n".join(
            f"==> {log} <==\n{log.read_text(errors='replace')}" for log in logs if log.exists()
        )


_FETCH_HEAD = re.compile(rb"UID (\d+)|FLAGS \(([^)]*)\)")


def _fetch_all(client: imaplib.IMAP4, folder: str) -> list[StoredMessage]:
    status, data = client.select(_quote(folder), readonly=True)
    if status != "OK":
        raise MailServerError(f"cannot select {folder}: {data}")
    status, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
    if status != "OK":
        raise MailServerError(f"UID FETCH failed in {folder}: {data}")
    found = []
    for item in data:
        if not isinstance(item, tuple):
            continue  # the closing ")" of each message, or an empty-folder None
        uid, flags = 0, frozenset[str]()
        for match in _FETCH_HEAD.finditer(item[0]):
            if match.group(1):
                uid = int(match.group(1))
            else:
                flags = frozenset(match.group(2).decode().split())
        found.append(StoredMessage(uid=uid, flags=flags, raw=item[1]))
    return sorted(found, key=lambda message: message.uid)


def _message_count(client: imaplib.IMAP4, folder: str) -> int:
    status, data = client.status(_quote(folder), "(MESSAGES)")
    match = re.search(rb"MESSAGES (\d+)", data[0] or b"") if status == "OK" else None
    return int(match.group(1)) if match else 0


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
