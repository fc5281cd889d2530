"""Fixtures: real Dovecot and Postfix (see tests/harness/mailservers.py).

- `mail_servers` (session): one shared instance on free ports of 127.0.0.1, also on the
  standard ports of the run's STANDARD_HOST, 127.0.x.2 (IMAP 143/993, POP3 110/995,
  submission 587/465).
- `mail_user` (function): a factory of fresh users, `mail_user()` -> MailUser on example.test.
- `private_mail_servers` (function): a factory of separate instances, for tests that stop or
  restart a server; each is stopped at teardown.
- `oauth_server` and `oauth_mail_servers` (module): a token issuer (tests/harness/
  oauth_server.py) and a factory of instances whose Dovecot (and Postfix, through it) also
  accept its tokens, with OAUTHBEARER and XOAUTH2 or the mechanisms asked for, on the mail
  domains asked for. Only the tests that ask for them run a Dovecot with OAuth on.

Dovecot and Postfix are installed (scripts/install-system-deps.sh) before the first test when
they are missing and we are root, outside pytest-timeout's per-test limit. Without them, or
without root, the tests that need them fail in CI and are skipped elsewhere.
"""

import itertools
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tests.harness.certs import TestCA
from tests.harness.mailservers import (
    MailServerError,
    MailServerOptions,
    MailServers,
    MailUser,
    ensure_installed,
    missing_packages,
)
from tests.harness.oauth_authorization import AuthorizationServer
from tests.harness.oauth_server import OAuthServer
from tests.harness.ports import STANDARD_HOST

MAIL_FIXTURES = {
    "mail_servers",
    "mail_user",
    "private_mail_servers",
    "foreign_servers",
    "oauth_mail_servers",
}
STANDARD_PORTS_HOST = STANDARD_HOST
_install_error: list[str] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """Installs the mail servers once, before any test runs, if a collected test needs them."""
    wanted = any(MAIL_FIXTURES & set(getattr(item, "fixturenames", ())) for item in session.items)
    if not wanted or os.geteuid() != 0 or not missing_packages():
        return
    try:
        ensure_installed()
    except MailServerError as exc:
        _install_error.append(str(exc))


def _require(reason: str) -> NoReturn:
    from tests.conftest import require_service  # imported late: conftest loads this plugin

    require_service(reason)


def start_mail_servers(ca: TestCA, options: MailServerOptions) -> MailServers:
    """Starts an instance in a short /tmp folder, or fails (CI) / skips (elsewhere) the test."""
    if os.geteuid() != 0:
        _require("real Dovecot and Postfix need root (Postfix's master runs as root)")
    if missing_packages():
        _require(
            f"Dovecot/Postfix missing ({', '.join(missing_packages())}): "
            + (_install_error[0] if _install_error else "run scripts/install-system-deps.sh")
        )
    folder = Path(tempfile.mkdtemp(prefix="wm-", dir="/tmp"))
    servers = MailServers(folder, ca, options)
    try:
        servers.start()
    except MailServerError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        _require(f"the test mail servers did not start: {exc}")
    return servers


def stop_mail_servers(servers: MailServers) -> None:
    try:
        servers.stop()
    finally:
        shutil.rmtree(servers.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def mail_servers(test_ca: TestCA) -> Iterator[MailServers]:
    """The shared Dovecot + Postfix; tests must not stop it (use private_mail_servers)."""
    servers = start_mail_servers(
        test_ca, MailServerOptions(standard_ports_host=STANDARD_PORTS_HOST)
    )
    yield servers
    stop_mail_servers(servers)


_user_numbers = itertools.count(1)


@pytest.fixture
def mail_user(mail_servers: MailServers) -> Callable[..., MailUser]:
    """Factory: `mail_user()` makes a new user with a random password on the shared servers.

    `mail_user(domain="other.test")`, `mail_user(local="alice")` (still made unique) and
    `mail_user(password="...")` choose the parts.
    """

    def make(
        domain: str | None = None, local: str = "user", password: str | None = None
    ) -> MailUser:
        unique = f"{local}-{next(_user_numbers)}-{secrets.token_hex(3)}"
        address = f"{unique}@{domain or mail_servers.endpoints.domains[0]}"
        return mail_servers.add_user(address, password or secrets.token_urlsafe(12))

    return make


@pytest.fixture
def private_mail_servers(test_ca: TestCA) -> Iterator[Callable[..., MailServers]]:
    """Factory: `private_mail_servers(**MailServerOptions fields)` starts a separate instance
    (no standard ports) that the test may stop and restart; all are stopped at teardown."""
    started: list[MailServers] = []

    def start(**options: object) -> MailServers:
        servers = start_mail_servers(test_ca, MailServerOptions(**options))  # type: ignore[arg-type]
        started.append(servers)
        return servers

    yield start
    errors = []
    for servers in started:
        try:
            stop_mail_servers(servers)
        except MailServerError as exc:
            errors.append(str(exc))
    if errors:
        pytest.fail("; ".join(errors), pytrace=False)


def _stop_all(started: list[MailServers]) -> None:
    errors = []
    for servers in started:
        try:
            stop_mail_servers(servers)
        except MailServerError as exc:
            errors.append(str(exc))
    if errors:
        pytest.fail("; ".join(errors), pytrace=False)


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[OAuthServer]:
    """Issues, revokes and expires access tokens; oauth_mail_servers' Dovecot asks it."""
    server = OAuthServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def authorization_server(
    oauth_server: OAuthServer, test_ca: TestCA
) -> Iterator[AuthorizationServer]:
    """The local HTTPS provider (authorise, consent, token) whose tokens `oauth_server` knows;
    tests set it up per test with reset() and their own provider data file."""
    server = AuthorizationServer(oauth_server, test_ca).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oauth_mail_servers(
    test_ca: TestCA, oauth_server: OAuthServer
) -> Iterator[Callable[..., MailServers]]:
    """Factory: `oauth_mail_servers(mechanisms=("xoauth2",))` -> a private instance that also
    signs in with `oauth_server`'s tokens over those SASL mechanisms (default: OAUTHBEARER and
    XOAUTH2); `domains=("gmail.com",)` hosts other mail domains than example.test and
    other.test. One instance per mechanisms and domains, shared by the module's tests: they
    must not stop it."""
    started: dict[tuple[tuple[str, ...], tuple[str, ...]], MailServers] = {}

    def start(
        mechanisms: tuple[str, ...] = ("oauthbearer", "xoauth2"),
        domains: tuple[str, ...] = MailServerOptions.domains,
    ) -> MailServers:
        if (mechanisms, domains) not in started:
            started[mechanisms, domains] = start_mail_servers(
                test_ca,
                MailServerOptions(
                    domains=domains,
                    oauth_introspection_url=oauth_server.introspection_url,
                    oauth_mechanisms=mechanisms,
                ),
            )
        return started[mechanisms, domains]

    yield start
    _stop_all(list(started.values()))


@pytest.fixture(scope="session")
def foreign_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A CA that SSL_CERT_FILE (the session's test CA) does not include."""
    return TestCA(tmp_path_factory.mktemp("foreign-ca"))


@pytest.fixture(scope="session")
def foreign_servers(foreign_ca: TestCA) -> Iterator[MailServers]:
    """Dovecot and Postfix on 127.0.0.1 whose certificate is signed by `foreign_ca`:
    a self-hoster's server, as far as the product can tell."""
    servers = start_mail_servers(foreign_ca, MailServerOptions())
    yield servers
    stop_mail_servers(servers)
