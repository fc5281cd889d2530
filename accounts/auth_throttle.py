"""Failed sign-ins: django-axes' hooks, and our slowdown per user name. Both live in the cache.

- **Lockout per (user name, client IP)**, by django-axes: after ACCOUNTS_LOCKOUT_FAILURES
  failures that pair is refused for ACCOUNTS_LOCKOUT_SECONDS. A guesser at one address gets a
  few tries; the same name from any other address is not affected, so nobody can lock
  another person out.
- **Slowdown per user name**, from every address (a guesser spread over many IPs): after
  ACCOUNTS_SLOWDOWN_AFTER_FAILURES failures within a day, each further failure closes the
  name for BASE * 2**k seconds (k = failures past the limit, capped at MAX). While it is
  closed an attempt is refused at once with "wait N seconds", before any password check,
  and is counted neither here nor by axes: waiting is all it costs. Nothing sleeps, so no
  worker is held.
- **Known devices**: so that a guesser cannot keep the real person out by keeping the name
  closed, a browser that has signed in as that name carries a signed cookie and is never
  slowed (OWASP's "device cookies"); axes still limits it per IP. Its failures are not
  counted here either.
"""

import hmac
import math
import time
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac

KNOWN_DEVICE_COOKIE = "webmail_known_device"
_KNOWN_DEVICE_SALT = "accounts.auth_throttle.known_device"


# --- django-axes hooks (named in settings) ---------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, already corrected for trusted proxies only."""
    return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: our page, saying for how long and that other places still work."""
    cool_off = get_cool_off(request) or timedelta(0)
    context = {"wait": wait_in_words(math.ceil(cool_off.total_seconds()))}
    return render(request, "accounts/auth/locked_out.html", context, status=429)


def is_locked_out(request: HttpRequest, username: str) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": username})


def record_code_failure(request: HttpRequest, username: str) -> None:
    """A wrong two-factor code counts like a wrong password, for axes and for the slowdown."""
    record_failure(request, username)
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


# --- Slowdown per user name ------------------------------------------------------------------


def seconds_to_wait(request: HttpRequest, username: str) -> int:
    """How long this user name is closed to this browser; 0 when it may try now."""
    if is_known_device(request, username):
        return 0
    closed_until = cache.get(_key("closed", username))
    if closed_until is None:
        return 0
    return max(0, math.ceil(closed_until - time.time()))


def record_failure(request: HttpRequest, username: str) -> None:
    if is_known_device(request, username):
        return
    failures = _count_failure(_key("failures", username))
    past_limit = failures - settings.ACCOUNTS_SLOWDOWN_AFTER_FAILURES
    if past_limit < 0:
        return
    window = min(
        settings.ACCOUNTS_SLOWDOWN_BASE_SECONDS * 2 ** min(past_limit, 32),
        settings.ACCOUNTS_SLOWDOWN_MAX_SECONDS,
    )
    cache.set(_key("closed", username), time.time() + window, timeout=window + 1)


def _count_failure(key: str) -> int:
    memory = settings.ACCOUNTS_SLOWDOWN_MEMORY_SECONDS
    if cache.add(key, 1, timeout=memory):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=memory)
        return 1


def _key(kind: str, username: str) -> str:
    return f"accounts.signin.{kind}.{_name_digest(username)}"


def _name_digest(username: str) -> str:
    # Keyed, so neither a cache dump nor the cookie shows or confirms a user name.
    return salted_hmac(_KNOWN_DEVICE_SALT, username, algorithm="sha256").hexdigest()[:32]


def wait_in_words(seconds: int) -> str:
    """ "1 second", "90 seconds", "15 minutes"."""
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


# --- Known devices ---------------------------------------------------------------------------


def remember_device(response: HttpResponse, username: str) -> None:
    """After a complete sign-in: this browser is known for this user name from now on."""
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        _name_digest(username),
        salt=_KNOWN_DEVICE_SALT,
        max_age=settings.ACCOUNTS_KNOWN_DEVICE_DAYS * 24 * 60 * 60,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def is_known_device(request: HttpRequest, username: str) -> bool:
    value = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        default=None,
        salt=_KNOWN_DEVICE_SALT,
        max_age=settings.ACCOUNTS_KNOWN_DEVICE_DAYS * 24 * 60 * 60,
    )
    return value is not None and hmac.compare_digest(value, _name_digest(username))
