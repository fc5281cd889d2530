import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.db import models


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class User(AbstractUser):
    """A person who signs in. Their mail accounts hang off this row."""

    time_zone = models.CharField(max_length=64, default="UTC", choices=_time_zone_choices)
    two_factor_required = models.BooleanField(
        default=False,
        help_text="Sends this person to set up two-factor sign-in before anything else.",
    )


# Mail accounts and identities live in their own module; imported here so Django finds them.
from accounts.models_mail import Identity, MailAccount  # noqa: E402
from accounts.models_oauth import OAuthGrant  # noqa: E402

__all__ = ["Identity", "MailAccount", "OAuthGrant", "User"]
