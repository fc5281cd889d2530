"""A private Dovecot 2.3 for the tests: IMAP, POP3, LMTP and SASL auth for Postfix.

Everything (configuration, sockets, state, logs, mail) lives under one short folder, and the
instance runs with `dovecot -c FILE`, so it never touches a system Dovecot or another test run.
"""

import base64
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from tests.harness.certs import CertFiles
from tests.harness.daemons import (
    MailServerError,
    gid_of,
    make_dir,
    read_pid,
    run,
    terminate,
    wait_for_ports,
)

# Created and subscribed by Dovecot on first use (auto = subscribe).
SPECIAL_USE = {
    "Drafts": "\\Drafts",
    "Sent": "\\Sent",
    "Junk": "\\Junk",
    "Trash": "\\Trash",
    "Archive": "\\Archive",
}


@dataclass(frozen=True)
class DovecotPorts:
    imap: int
    imaps: int
    pop3: int
    pop3s: int


STANDARD_PORTS = DovecotPorts(imap=143, imaps=993, pop3=110, pop3s=995)


@dataclass(frozen=True)
class DovecotSettings:
    host: str
    ports: DovecotPorts
    cert: CertFiles
    mail_owner: tuple[int, int]  # uid, gid of the system user that owns every Maildir
    postmaster: str
    standard_ports_host: str | None = None
    auth_failure_delay: int = 0  # seconds (Dovecot's default is 2)
    separator: str = "/"
    # ssl = required: no login before TLS. Dovecot still counts a client on its own address
    # (127.0.0.1 -> 127.0.0.1) as secure; from 127.0.0.1 to 127.0.0.2 it does not.
    require_tls: bool = True
    # OAuth 2.0 sign-in, off unless a URL is given: the oauth2 passdb asks this RFC 7662
    # introspection endpoint (tests/harness/oauth_server.py) about each bearer token.
    oauth_introspection_url: str | None = None
    oauth_mechanisms: tuple[str, ...] = ("oauthbearer", "xoauth2")


def ssha512(password: str) -> str:
    """Dovecot's {SSHA512} scheme: salted SHA-512, computed without the deprecated crypt module."""
    salt = secrets.token_bytes(16)
    digest = hashlib.sha512(password.encode() + salt).digest()
    return "{SSHA512}" + base64.b64encode(digest + salt).decode()


def _listener(name: str, host: str, port: int, tls: bool) -> str:
    ssl = "\n    ssl = yes" if tls else ""
    return f"  inet_listener {name} {{\n    address = {host}\n    port = {port}{ssl}\n  }}\n"


def _login_service(protocol: str, settings: DovecotSettings) -> str:
    plain, implicit = (
        (settings.ports.imap, settings.ports.imaps)
        if protocol == "imap"
        else (settings.ports.pop3, settings.ports.pop3s)
    )
    body = _listener(protocol, settings.host, plain, tls=False)
    body += _listener(f"{protocol}s", settings.host, implicit, tls=True)
    if settings.standard_ports_host:
        std = STANDARD_PORTS
        std_plain, std_implicit = (
            (std.imap, std.imaps) if protocol == "imap" else (std.pop3, std.pop3s)
        )
        body += _listener(f"{protocol}-std", settings.standard_ports_host, std_plain, tls=False)
        body += _listener(f"{protocol}s-std", settings.standard_ports_host, std_implicit, tls=True)
    return f"service {protocol}-login {{\n{body}}}\n"


def _mailboxes() -> str:
    blocks = [
        f"  mailbox {name} {{\n    special_use = {use}\n    auto = subscribe\n  }}\n"
        for name, use in SPECIAL_USE.items()
    ]
    return "".join(blocks)


class Dovecot:
    """One private Dovecot instance; `folder` must be short (Unix socket paths ~100 bytes)."""

    def __init__(self, folder: Path, settings: DovecotSettings) -> None:
        self.folder = folder
        self.settings = settings
        self.config_file = folder / "dovecot.conf"
        self.run_dir = folder / "run"  # base_dir: sockets and master.pid
        self.state_dir = folder / "state"
        self.users_dir = folder / "users"  # one passwd-file per user, named by login
        self.mail_root = folder / "mail"
        self.log = folder / "dovecot.log"
        self.lmtp_socket = self.run_dir / "lmtp"
        self.auth_socket = self.run_dir / "auth-postfix"
        self.oauth2_config = folder / "dovecot-oauth2.conf.ext"
        self._passwords: dict[str, str] = {}

    def write_config(self) -> None:
        make_dir(self.folder)
        make_dir(self.state_dir)
        make_dir(self.mail_root, owner=self.settings.mail_owner, mode=0o700)
        make_dir(self.users_dir, mode=0o750)
        os.chown(self.users_dir, 0, gid_of("dovecot"))  # the auth process runs as `dovecot`
        self.config_file.write_text(self._config())
        if self.settings.oauth_introspection_url:
            self.oauth2_config.write_text(self._oauth2_config())

    def _config(self) -> str:
        s = self.settings
        uid, gid = s.mail_owner
        return f"""# Written by tests/harness/dovecot.py: a private instance for the test suite.
instance_name = {self.folder.parent.name}
base_dir = {self.run_dir}
state_dir = {self.state_dir}
log_path = {self.log}
protocols = imap pop3 lmtp
listen = {s.host}
hostname = mail.{s.postmaster.split("@")[1]}
postmaster_address = {s.postmaster}
ssl = {"required" if s.require_tls else "yes"}
ssl_cert = <{s.cert.cert}
ssl_key = <{s.cert.key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = {self._auth_mechanisms()}
auth_username_format = %Lu
auth_failure_delay = {s.auth_failure_delay} secs
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:~/Maildir
{self._nodelay_passdb()}passdb {{
  driver = passwd-file
  args = scheme=SSHA512 {self.users_dir}/%Lu{self._password_mechanisms()}
}}
{self._oauth_passdb()}userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.mail_root}/%d/%n
}}
namespace inbox {{
  inbox = yes
  separator = {s.separator}
{_mailboxes()}}}
{_login_service("imap", s)}{_login_service("pop3", s)}service lmtp {{
  unix_listener lmtp {{
    user = postfix
    group = postfix
    mode = 0600
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    user = postfix
    group = postfix
    mode = 0600
  }}
}}
# The per-IP penalty after failed logins would slow every later login of the suite.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 500
}}
protocol pop3 {{
  mail_max_userip_connections = 500
}}
protocol lmtp {{
  lmtp_rcpt_check_quota = no
}}
"""

    def _nodelay_passdb(self) -> str:
        if self.settings.auth_failure_delay:
            return ""
        # Even with auth_failure_delay = 0 Dovecot answers failures on a 500 ms timer, unless
        # the request carries `nodelay`. A failed passdb's fields are dropped, so this one
        # adds the field and passes on without authenticating.
        return "passdb {\n  driver = static\n  args = noauthenticate nodelay=yes\n}\n"

    def _auth_mechanisms(self) -> str:
        oauth = self.settings.oauth_mechanisms if self.settings.oauth_introspection_url else ()
        return " ".join(("plain", "login", *oauth))

    def _password_mechanisms(self) -> str:
        # With OAuth on, a bearer token is never compared with the users' passwords; "none"
        # keeps the lookups without a sign-in (LMTP's userdb check) on this passdb.
        return "\n  mechanisms = plain login none" if self.settings.oauth_introspection_url else ""

    def _oauth_passdb(self) -> str:
        s = self.settings
        if not s.oauth_introspection_url:
            return ""
        # Only the token mechanisms reach it: passwords never go to the token server.
        mechanisms = " ".join(s.oauth_mechanisms)
        return (
            f"passdb {{\n  driver = oauth2\n  mechanisms = {mechanisms}\n"
            f"  args = {self.oauth2_config}\n}}\n"
        )

    def _oauth2_config(self) -> str:
        # RFC 7662: POST token=..., answer {"active": true, "username": ...}; Dovecot checks
        # that the username is the one signing in.
        return (
            f"introspection_mode = post\n"
            f"introspection_url = {self.settings.oauth_introspection_url}\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )

    def start(self, timeout: float = 15.0) -> None:
        run(["dovecot", "-c", str(self.config_file)], "starting Dovecot")
        wait_for_ports(self._host_ports(), "Dovecot", self.log, timeout)

    def _host_ports(self) -> list[tuple[str, int]]:
        s = self.settings
        pairs = [(s.host, p) for p in (s.ports.imap, s.ports.imaps, s.ports.pop3, s.ports.pop3s)]
        if s.standard_ports_host:
            std = STANDARD_PORTS
            pairs += [
                (s.standard_ports_host, p) for p in (std.imap, std.imaps, std.pop3, std.pop3s)
            ]
        return pairs

    def pid(self) -> int | None:
        return read_pid(self.run_dir / "master.pid")

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            terminate(pid, "Dovecot")

    def set_password(self, login: str, password: str) -> None:
        """Adds a virtual user or changes its password.

        One file per user, because Dovecot looks at a passwd-file at most once a second: a
        single shared file would hide a user added in the same second as the last login.
        """
        login = login.lower()
        if not re.fullmatch(r"[a-z0-9._+-]+@[a-z0-9.-]+", login) or "\n" in password:
            raise MailServerError(f"unusable login for a passwd-file: {login!r}")
        if self._passwords.get(login) == password:
            return
        path = self.users_dir / login
        before = path.stat().st_mtime if path.exists() else None
        tmp = path.with_name(f".{login}.tmp")
        tmp.write_text(f"{login}:{ssha512(password)}\n")
        tmp.chmod(0o640)
        os.chown(tmp, 0, gid_of("dovecot"))
        os.replace(tmp, path)
        self._passwords[login] = password
        if before is not None:
            # A changed password: Dovecot compares mtime (seconds) and size (a new hash keeps
            # it), and only once a second, so change the mtime and let this second pass.
            stamp = max(time.time(), before + 1)
            os.utime(path, (stamp, stamp))
            time.sleep(1.05 - time.time() % 1)

    def doveadm(self, *args: str) -> str:
        return run(["doveadm", "-c", str(self.config_file), *args], f"doveadm {args[0]}")

    def home(self, login: str) -> Path:
        local, _, domain = login.lower().partition("@")
        return self.mail_root / domain / local
