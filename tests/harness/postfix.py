"""A private Postfix 3.7 for the tests: submission, submissions and a plain SMTP port.

Mail for the test domains goes to Dovecot over LMTP; nothing else is ever delivered: there is
no outbound smtp/relay transport, the default and relay transports are `error:`, DNS is off,
and relaying is refused at RCPT time even for authenticated users.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tests.harness.certs import CertFiles
from tests.harness.daemons import (
    MailServerError,
    gid_of,
    ids_of,
    log_tail,
    make_dir,
    read_pid,
    run,
    terminate,
    wait_for_ports,
)

QUEUE_FOLDERS = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")
STANDARD_SUBMISSION = 587
STANDARD_SUBMISSIONS = 465


@dataclass(frozen=True)
class PostfixPorts:
    smtp: int  # port-25 style: no AUTH, STARTTLS offered, local domains only
    submission: int  # STARTTLS required, AUTH required
    submissions: int  # implicit TLS, AUTH required


@dataclass(frozen=True)
class PostfixSettings:
    host: str
    ports: PostfixPorts
    cert: CertFiles
    domains: tuple[str, ...]
    lmtp_socket: Path  # Dovecot's
    auth_socket: Path  # Dovecot's SASL socket
    standard_ports_host: str | None = None
    message_size_limit: int = 25 * 1024 * 1024


# Services every Postfix needs, none of them chrooted; deliberately no smtp/relay/local/virtual.
INTERNAL_SERVICES = """\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# AUTH is required before MAIL (refused at MAIL, not only at RCPT) and only after TLS.
SUBMISSION_OPTIONS = """\
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_delay_reject=no
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
"""


def _smtpd(address: str, name: str, extra: str) -> str:
    return f"{address} inet n - n - - smtpd\n  -o syslog_name=postfix/{name}\n{extra}"


def _submission(host: str, port: int) -> str:
    return _smtpd(
        f"{host}:{port}",
        "submission",
        "  -o smtpd_tls_security_level=encrypt\n" + SUBMISSION_OPTIONS,
    )


def _submissions(host: str, port: int) -> str:
    return _smtpd(
        f"{host}:{port}",
        "submissions",
        "  -o smtpd_tls_wrappermode=yes\n  -o smtpd_tls_security_level=encrypt\n"
        + SUBMISSION_OPTIONS,
    )


class Postfix:
    """One private Postfix instance (`postfix -c DIR`), configured from `settings`."""

    def __init__(self, folder: Path, settings: PostfixSettings) -> None:
        self.folder = folder
        self.settings = settings
        self.config_dir = folder / "etc"
        self.queue_dir = folder / "queue"
        self.data_dir = folder / "data"
        self.log = folder / "postfix.log"
        self.mailbox_map = self.config_dir / "vmailbox"
        self._mailboxes: set[str] = set()
        self._map_time = 0  # the mtime last given to the mailbox table

    def write_config(self) -> None:
        make_dir(self.folder)
        make_dir(self.config_dir)
        make_dir(self.queue_dir)  # root-owned; `postfix start` creates its subfolders
        make_dir(self.data_dir, owner=ids_of("postfix"), mode=0o700)
        gid_of("postdrop")  # fails clearly if the package's group is missing
        for name, text in (("main.cf", self._main_cf()), ("master.cf", self._master_cf())):
            path = self.config_dir / name
            path.write_text(text)
            # Postfix rereads a configuration file until it is a second old; backdate it.
            past = time.time() - 60
            os.utime(path, (past, past))
        self._write_mailbox_map()

    def _main_cf(self) -> str:
        s = self.settings
        first = s.domains[0]
        refused = "error:5.7.1 this test server delivers to its test domains only"
        return f"""# Written by tests/harness/postfix.py: a private instance for the test suite.
compatibility_level = 3.6
queue_directory = {self.queue_dir}
data_directory = {self.data_dir}
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {self.folder}
maillog_file = {self.log}
myhostname = mail.{first}
mydomain = {first}
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks_style = host
mydestination =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = {" ".join(s.domains)}
virtual_mailbox_maps = hash:{self.mailbox_map}
virtual_transport = lmtp:unix:{s.lmtp_socket}
lmtp_destination_recipient_limit = 1
local_transport = {refused}
default_transport = {refused}
relay_transport = {refused}
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
biff = no
append_dot_mydomain = no
recipient_delimiter = +
message_size_limit = {s.message_size_limit}
mailbox_size_limit = 0
# Fast delivery and no punishment of clients that make mistakes on purpose.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
smtpd_tls_chain_files = {s.cert.key}, {s.cert.cert}
smtpd_tls_security_level = may
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_received_header = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {s.auth_socket}
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
# Only the test domains are ever accepted, authenticated or not.
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
"""

    def _master_cf(self) -> str:
        s = self.settings
        services = [
            _smtpd(f"{s.host}:{s.ports.smtp}", "smtp", ""),
            _submission(s.host, s.ports.submission),
            _submissions(s.host, s.ports.submissions),
        ]
        if s.standard_ports_host:
            services.append(_submission(s.standard_ports_host, STANDARD_SUBMISSION))
            services.append(_submissions(s.standard_ports_host, STANDARD_SUBMISSIONS))
        return "".join(services) + INTERNAL_SERVICES

    def _host_ports(self) -> list[tuple[str, int]]:
        s = self.settings
        pairs = [(s.host, p) for p in (s.ports.smtp, s.ports.submission, s.ports.submissions)]
        if s.standard_ports_host:
            pairs += [
                (s.standard_ports_host, p) for p in (STANDARD_SUBMISSION, STANDARD_SUBMISSIONS)
            ]
        return pairs

    def add_mailbox(self, address: str) -> None:
        """Makes an address known, so that RCPT TO for it is accepted (others: user unknown)."""
        address = address.lower()
        if address not in self._mailboxes:
            self._mailboxes.add(address)
            self._write_mailbox_map()

    def _write_mailbox_map(self) -> None:
        # Postfix daemons notice the rebuilt table and restart themselves before the next client.
        self.mailbox_map.write_text("".join(f"{a}\tOK\n" for a in sorted(self._mailboxes)))
        run(["postmap", "-c", str(self.config_dir), f"hash:{self.mailbox_map}"], "postmap")
        # Daemons compare the table's st_mtime, in whole seconds, with the one they opened: an
        # smtpd that opened the previous version in this same second would keep it (and refuse
        # the new user as unknown). A time never used before makes every change visible.
        self._map_time = max(int(time.time()), self._map_time + 1)
        os.utime(self.mailbox_map.with_suffix(".db"), (self._map_time, self._map_time))

    def start(self, timeout: float = 15.0) -> None:
        try:
            run(["postfix", "-c", str(self.config_dir), "start"], "starting Postfix", timeout=60)
        except MailServerError as exc:
            # postfix-script and master report start-up errors to postlogd, which is not running.
            raise MailServerError(f"{exc}\n{self._diagnose()}\n{log_tail(self.log)}") from exc
        wait_for_ports(self._host_ports(), "Postfix", self.log, timeout)

    def _diagnose(self) -> str:
        try:
            output = run(["postfix", "-c", str(self.config_dir), "check"], "postfix check")
            return output or "`postfix check` finds nothing wrong; is a port taken?"
        except MailServerError as exc:
            return str(exc)

    def pid(self) -> int | None:
        return read_pid(self.queue_dir / "pid" / "master.pid")

    def stop(self) -> None:
        # What `postfix stop` does, without its one-second polling.
        pid = self.pid()
        if pid is not None:
            terminate(pid, "Postfix")

    def queue_is_empty(self) -> bool:
        """True when no message waits in (or is being delivered from) the queue."""
        for name in QUEUE_FOLDERS:
            folder = self.queue_dir / name
            if folder.is_dir() and any(path.is_file() for path in folder.rglob("*")):
                return False
        return True

    def postconf(self, *args: str) -> str:
        return run(["postconf", "-c", str(self.config_dir), *args], "postconf")
