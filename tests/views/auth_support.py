"""Helpers for the sign-in tests (views and browser): people, devices, codes, fast delays.

Failure counters live in the shared Redis cache, so every test makes people with names of
its own: no test sees another's lockouts, and nothing needs flushing.
"""

import json
import os
import re
import secrets
import subprocess
import sys
import time
from base64 import b32decode
from pathlib import Path

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from accounts.models import User

PASSWORD = "correct horse battery staple"


def make_user(name: str = "alice", **fields: object) -> User:
    username = f"{name}-{secrets.token_hex(3)}"
    fields.setdefault("email", f"{username}@example.test")
    return User.objects.create_user(username, password=PASSWORD, **fields)


def turn_on_two_factor(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def next_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the current step, or the next one if that was used."""
    device.refresh_from_db()
    now_step = int(time.time() - device.t0) // device.step
    drift = max(device.drift, device.last_t + 1 - now_step)
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def wrong_code(device: TOTPDevice) -> str:
    right = next_code(device)
    return f"{(int(right) + 1) % 1_000_000:06d}"


def secret_key_of(page_text: str) -> bytes:
    """The key shown on the two-factor page (base32 in groups of four) as bytes."""
    match = re.search(r"((?:[A-Z2-7]{4} ?){8,})", page_text)
    assert match, "no secret on the page"
    secret = match.group(1).replace(" ", "")
    return b32decode(secret + "=" * (-len(secret) % 8))


def sign_in(client: Client, user: User, password: str = PASSWORD, **extra: object):
    return client.post("/login/", {"username": user.username, "password": password}, **extra)


def fast_delays(settings: Settings, **overrides: object) -> None:
    """Small limits and one-second windows, so lockouts and slowdowns happen and end quickly."""
    settings.AXES_FAILURE_LIMIT = 3
    settings.ACCOUNTS_SLOWDOWN_AFTER_FAILURES = 6
    settings.ACCOUNTS_SLOWDOWN_BASE_SECONDS = 1
    settings.ACCOUNTS_SLOWDOWN_MAX_SECONDS = 4
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    for name, value in overrides.items():
        setattr(settings, name, value)


def production_settings(*names: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """webmail.settings loaded in a fresh process with production values and `environment`;
    its stdout is the JSON list of the named settings."""
    probe = (
        "import json, django; from django.conf import settings as s; django.setup();"
        f"print(json.dumps([getattr(s, n) for n in {list(names)!r}], default=str))"
    )
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "webmail.settings",
        "WEBMAIL_ENV_FILE": "/nonexistent",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "MAIL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
    )


def production_values(*names: str, **environment: str) -> list:
    result = production_settings(*names, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
