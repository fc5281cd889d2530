"""Quiet before a test's database is flushed.

A browser page keeps running after its test (compose autosaves a draft a few seconds after
typing stops), the live server may still be serving it, and the session's Celery worker may
still run a task a request or a sync queued. Any of them holding rows while the flush's
TRUNCATE waits for them is a deadlock PostgreSQL breaks by failing the flush (and the next
test then finds the last one's rows). `settle_test` runs first in each test's teardown:
pages to about:blank, then no request in flight, then the worker idle.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

_lock = threading.Lock()
_in_flight = 0
_idle_checks: list[Callable[[], None]] = []  # the session worker's, once started


def count_requests(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., Any]:
    """Test-only middleware (tests/settings.py): counts the requests being served."""

    def middleware(request: HttpRequest) -> HttpResponse:
        global _in_flight
        with _lock:
            _in_flight += 1
        try:
            return get_response(request)
        finally:
            with _lock:
                _in_flight -= 1

    return middleware


def on_settle(check: Callable[[], None]) -> None:
    _idle_checks.append(check)


def settle_test(funcargs: dict[str, Any], timeout: float = 15.0) -> None:
    page = funcargs.get("page")
    if page is not None and not page.is_closed():
        page.goto("about:blank")  # its scripts stop: no more autosaves
    deadline = time.monotonic() + timeout
    while _in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    for check in _idle_checks:
        check()
