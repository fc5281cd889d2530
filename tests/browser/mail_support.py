"""Shared pieces of the mail browser tests (test_mail_reading.py, test_mail_hostile.py).

- Mail comes the way it comes in production: seeded into the real Dovecot, then brought in by
  `sync_account`. Seeding Dovecot is not database work, so a module seeds its mailboxes once;
  the transactional test database is emptied after every test, so each test makes its
  person and accounts again and syncs them (a fraction of a second for a few messages).
- `CountingServer`: a loopback HTTP server that records every request (any method, any path)
  and every connection, standing in for the sender's web server.
- `BrowserWatch`: what a page said that a test must see: Content-Security-Policy reports in
  the console (the message frame's included), uncaught errors, and dialogs (dismissed); and
  `settle()`, which waits until no frame of the page has a request in flight.
"""

import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.conf import settings
from django.test import Client
from playwright.sync_api import ConsoleMessage, Dialog, Page, Request

from accounts.models import MailAccount, User
from mailbox.models import MessageLocation
from mailbox.protocols.types import Security, Server
from mailbox.services.sync import sync_account
from tests.accounts.factories import make_account
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.messages import png_bytes

PHONE = {"width": 360, "height": 740}
_numbers = itertools.count(1)


# Mail on the fixture servers ------------------------------------------------------------------


def new_mail_user(servers: MailServers, local: str, domain: str | None = None) -> MailUser:
    """A fresh Dovecot user (as the `mail_user` fixture makes, usable at module scope)."""
    address = f"{local}-{next(_numbers)}-{secrets.token_hex(3)}@{domain or 'example.test'}"
    return servers.add_user(address, secrets.token_urlsafe(12))


def synced_account(owner: User, mailbox: MailUser, servers: MailServers) -> MailAccount:
    """`owner`'s IMAP account for `mailbox`, synced once, as the first sync after adding it."""
    e = servers.endpoints
    account = make_account(
        owner,
        mailbox.address,
        password=mailbox.password,
        incoming=Server(e.host, e.imaps_port, Security.TLS),
        smtp=Server(e.host, e.submissions_port, Security.TLS),
    )
    report = sync_account(account.pk)
    assert report.error == "", report.error
    return account


def location_of(account: MailAccount, subject: str, role: str = "inbox") -> MessageLocation:
    """The one shown location of the message called `subject` in a folder of `account`."""
    return MessageLocation.objects.select_related("message").get(
        folder__account=account, folder__role=role, is_deleted=False, message__subject=subject
    )


# The browser ----------------------------------------------------------------------------------


def sign_in(page: Page, base_url: str, user: User) -> Page:
    """`page` with `user`'s session (signing in through the form is tested once, on its own)."""
    client = Client()
    client.force_login(user)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": base_url}]
    )
    return page


@dataclass
class BrowserWatch:
    """Console reports, page errors and dialogs of one page (and all of its frames)."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    in_flight: set[Request] = field(default_factory=set)
    last_activity: float = field(default_factory=time.monotonic)

    @property
    def csp_reports(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(message.text)

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _started(self, request: Request) -> None:
        self.in_flight.add(request)
        self.last_activity = time.monotonic()

    def _ended(self, request: Request) -> None:
        self.in_flight.discard(request)
        self.last_activity = time.monotonic()

    def settle(self, page: Page, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Waits for the page to load, then for `quiet` seconds without a request (any frame).

        Playwright's "networkidle" only covers a page's first load: after htmx swaps in a
        new frame, it is not reached again.
        """
        page.wait_for_load_state("load")
        deadline = time.monotonic() + timeout
        while self.in_flight or time.monotonic() - self.last_activity < quiet:
            assert time.monotonic() < deadline, f"still loading: {self.in_flight}"
            page.wait_for_timeout(50)


def watch(page: Page) -> BrowserWatch:
    seen = BrowserWatch()
    page.on("console", seen._on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("dialog", seen._on_dialog)
    page.on("request", seen._started)
    page.on("requestfinished", seen._ended)
    page.on("requestfailed", seen._ended)
    return seen


def wait_until(page: Page, condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Polls `condition` while the browser runs; True as soon as it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(50)
    return True


# The sender's web server ----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    method: str
    path: str


class CountingServer:
    """HTTP on 127.0.0.1 that answers anything (a PNG to GET) and records every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._connections = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.verify_request = self._count_connection  # type: ignore[method-assign]
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._connections = 0

    def _count_connection(self, request: Any, client_address: Any) -> bool:
        with self._lock:
            self._connections += 1
        return True

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        record, image = self._record, png_bytes()

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                record(Hit(self.command, self.path))
                body = image if self.command == "GET" else b""
                self.send_response(200 if body else 204)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = _answer  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator["CountingServer"]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)


def paths_not_under(hits: Sequence[Hit], prefixes: Sequence[str]) -> list[Hit]:
    return [hit for hit in hits if not hit.path.startswith(tuple(prefixes))]
