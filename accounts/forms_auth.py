"""Forms for signing in (our page and the admin's), the code step, two-factor set-up,
sign-up, password reset and preferences."""

import zoneinfo
from collections.abc import Callable
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import auth_throttle, two_factor
from accounts.models import User
from accounts.sign_in import PendingSignIn
from accounts.validation import normalise_address


def _slowed_down(seconds: int) -> ValidationError:
    return ValidationError(
        "Too many failed sign-ins for this user name. Wait %(wait)s, then try again.",
        code="slowed_down",
        params={"wait": auth_throttle.wait_in_words(seconds)},
    )


class CodeField(forms.CharField):
    """Six digits from an authenticator app; spaces are forgiven."""

    def __init__(self, **kwargs: object) -> None:
        attrs = {"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        kwargs.setdefault("label", "Code from your authenticator app")
        super().__init__(max_length=12, widget=forms.TextInput(attrs=attrs), **kwargs)

    def to_python(self, value: object) -> str:
        return "".join(str(super().to_python(value)).split())

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and (not value.isdigit() or len(value) != 6):
            raise ValidationError("Enter the six digits your app shows.", code="format")


def _check_code(device: TOTPDevice, code: str, on_wrong: Callable[[], None] | None = None) -> None:
    """Raises unless the code is right; `on_wrong` runs for a wrong one (not for a refusal)."""
    check = two_factor.check_code(device, code)
    if check.wait_seconds:
        raise ValidationError(
            "Too many wrong codes. Wait %(wait)s, then try again.",
            code="code_wait",
            params={"wait": auth_throttle.wait_in_words(check.wait_seconds)},
        )
    if not check.is_right:
        if on_wrong is not None:
            on_wrong()
        raise ValidationError(
            "That code is not right. Codes change every 30 seconds: use the newest.",
            code="wrong_code",
        )


class SlowdownMixin:
    """For authentication forms: a slowed-down user name is refused before any password
    check (and not counted), and a wrong password counts towards the slowdown."""

    request: HttpRequest

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")  # type: ignore[attr-defined]
        if not username:
            return super().clean()  # type: ignore[misc]
        if wait := auth_throttle.seconds_to_wait(self.request, username):
            raise _slowed_down(wait)
        was_locked_out = auth_throttle.is_locked_out(self.request, username)
        try:
            return super().clean()  # type: ignore[misc]
        except ValidationError:
            if self.get_user() is None and not was_locked_out:  # type: ignore[attr-defined]
                auth_throttle.record_failure(self.request, username)
            raise


class SignInForm(SlowdownMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That user name and password do not match. Both are case-sensitive.",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "User name"
        self.fields["username"].widget.attrs["autocomplete"] = "username"


class AdminSignInForm(SlowdownMixin, AdminAuthenticationForm):
    """The admin's login form; staff with a TOTP device also give a code (a wrong one counts
    as a failed sign-in)."""

    otp_token = CodeField(required=False, label="Two-factor code (if you have set it up)")

    def clean(self) -> dict:
        cleaned = super().clean()
        user = self.get_user()
        device = two_factor.confirmed_device(user) if user else None
        if device is None:
            return cleaned
        code = cleaned.get("otp_token")
        if not code:
            raise ValidationError("Enter the code from your authenticator app.", code="code")
        _check_code(
            device,
            code,
            lambda: auth_throttle.record_code_failure(self.request, user.get_username()),
        )
        user.otp_device = device  # django-otp marks the session verified on login
        return cleaned


class SignInCodeForm(forms.Form):
    """The second step: the code, checked like a password (lockout and slowdown included)."""

    code = CodeField()

    def __init__(
        self, *args: object, request: HttpRequest, pending: PendingSignIn, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.pending = pending

    def clean(self) -> dict:
        cleaned = super().clean()
        code = cleaned.get("code")
        if not code:
            return cleaned
        username = self.pending.user.get_username()
        if wait := auth_throttle.seconds_to_wait(self.request, username):
            raise _slowed_down(wait)
        if auth_throttle.is_locked_out(self.request, username):
            raise ValidationError(
                "Too many failed sign-ins from here for this user name. Try again later.",
                code="locked_out",
            )
        _check_code(
            self.pending.device,
            code,
            lambda: auth_throttle.record_code_failure(self.request, username),
        )
        return cleaned


class TwoFactorEnableForm(forms.Form):
    code = CodeField()

    def __init__(self, *args: object, device: TOTPDevice, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("code"):
            _check_code(self.device, cleaned["code"])
        return cleaned


class TwoFactorTurnOffForm(forms.Form):
    """Turning two-factor sign-in off takes the password and a code."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = CodeField()

    def __init__(self, *args: object, user: User, device: TOTPDevice, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = device

    def clean(self) -> dict:
        cleaned = super().clean()
        if two_factor.is_required(self.user):
            raise ValidationError(
                "Two-factor sign-in is required for your account: it cannot be turned off.",
                code="required",
            )
        password, code = cleaned.get("password"), cleaned.get("code")
        if password and not self.user.check_password(password):
            raise ValidationError("That is not your password.", code="wrong_password")
        if password and code:
            _check_code(self.device, code)
        return cleaned


class SignUpForm(UserCreationForm):
    email = forms.CharField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="Where a link to reset a forgotten password will be sent.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "User name"
        self.fields["username"].widget.attrs["autocomplete"] = "username"

    def clean_email(self) -> str:
        address = normalise_address(self.cleaned_data["email"])  # email-validator, in plain words
        if User.objects.filter(email__iexact=address).exists():
            raise ValidationError("Somebody has already signed up with this address.", code="taken")
        return address


class SiteUrlPasswordResetForm(PasswordResetForm):
    """The link in the mail is built from SITE_URL, never from the request's Host header."""

    def save(self, **kwargs: object) -> None:
        site = urlsplit(settings.SITE_URL)
        kwargs.update(domain_override=site.netloc, use_https=site.scheme == "https")
        super().save(**kwargs)


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("time_zone",)
        help_texts = {"time_zone": "Dates and times are shown, and searched, in this zone."}

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"]
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError("Choose a time zone from the list.", code="invalid") from None
        return name
