"""Signing in, in one or two steps.

The password step authenticates (django-axes and the slowdown watch it). A person without a
two-factor device is signed in at once. For one with a device, the session only remembers
who passed the password step, for ACCOUNTS_SIGN_IN_CODE_SECONDS: nobody is signed in
(no `login()`, `request.user` stays anonymous) until the code step accepts a code.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import auth_throttle, two_factor
from accounts.models import User

_PENDING = "accounts.sign_in.pending"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    device: TOTPDevice
    backend: str
    next_url: str


def needs_code(user: User) -> bool:
    return two_factor.confirmed_device(user) is not None


def begin_code_step(request: HttpRequest, user: User, next_url: str) -> None:
    request.session.cycle_key()
    request.session[_PENDING] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", MODEL_BACKEND),
        "next_url": next_url,
        "since": time.time(),
    }


def pending(request: HttpRequest) -> PendingSignIn | None:
    """Who passed the password step in this session, if that was recent enough."""
    data = request.session.get(_PENDING)
    if not data or time.time() - data["since"] > settings.ACCOUNTS_SIGN_IN_CODE_SECONDS:
        drop(request)
        return None
    user = User.objects.filter(pk=data["user_id"], is_active=True).first()
    device = two_factor.confirmed_device(user) if user else None
    if user is None or device is None:
        drop(request)
        return None
    return PendingSignIn(user, device, data["backend"], data["next_url"])


def drop(request: HttpRequest) -> None:
    request.session.pop(_PENDING, None)


def complete(
    request: HttpRequest,
    response: HttpResponse,
    user: User,
    *,
    backend: str | None = None,
    device: TOTPDevice | None = None,
) -> None:
    """Signs the person in (verified by `device` if given) and remembers this browser."""
    drop(request)
    if device is not None:
        user.otp_device = device  # django-otp marks the session verified on login
    login(request, user, backend=backend or getattr(user, "backend", MODEL_BACKEND))
    auth_throttle.remember_device(response, user.get_username())
