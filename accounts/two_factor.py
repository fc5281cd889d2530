"""Two-factor sign-in with an authenticator app (TOTP, django-otp): devices and codes.

A person has at most one confirmed TOTP device. Setting up makes an unconfirmed one whose
secret and QR code the page shows; the first right code confirms it, and only confirmed
devices count. django-otp refuses a code that was already used (`last_t`) and, after wrong
codes, refuses every code for a while that doubles (`OTP_TOTP_THROTTLE_FACTOR`).
"""

from base64 import b32encode
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

DEVICE_NAME = "Authenticator app"


@dataclass(frozen=True)
class CodeCheck:
    is_right: bool
    wait_seconds: int = 0  # > 0: the device takes no code for now, after wrong ones


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def is_required(user: User) -> bool:
    return settings.ACCOUNTS_REQUIRE_TWO_FACTOR or user.two_factor_required


def needs_setup(user: User) -> bool:
    return is_required(user) and confirmed_device(user) is None


def session_is_verified(request: HttpRequest) -> bool:
    """True when the person gave a code in this session, or has no device to give one with."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)  # set by django-otp's middleware
    return bool(is_verified and is_verified()) or confirmed_device(user) is None


def setup_device(user: User) -> TOTPDevice:
    """The unconfirmed device being set up; the same one (and secret) until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def check_code(device: TOTPDevice, code: str) -> CodeCheck:
    with transaction.atomic():
        # Locked, so that one code sent twice at once is accepted once.
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        is_allowed, details = device.verify_is_allowed()
        if not is_allowed:
            until = (details or {}).get("locked_until") or timezone.now()
            return CodeCheck(False, max(1, int((until - timezone.now()).total_seconds()) + 1))
        return CodeCheck(device.verify_token(code))


def confirm_device(request: HttpRequest, device: TOTPDevice) -> None:
    """Turns two-factor sign-in on; this session counts as verified (the admin asks for it)."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user_id).exclude(pk=device.pk).delete()
    otp_login(request, device)


def turn_off(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()


def secret_text(device: TOTPDevice) -> str:
    """The secret for typing into an app: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// URI as an inline SVG QR code, black on white in light and dark mode.

    Safe to insert as is: segno writes the whole SVG itself, and the URI only decides which
    modules are dark; the title is ours.
    """
    code = segno.make(device.config_url, error="m")
    svg = code.svg_inline(
        scale=5, dark="#000", light="#fff", title="QR code for your authenticator app"
    )
    return mark_safe(svg)  # noqa: S308 (segno's own markup, see above)
