"""Email addresses checked with email-validator, in words that name the part that is wrong."""

from django.conf import settings
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

# email-validator says "before/after the @-sign"; people know these as user name and domain.
_PARTS = (
    ("The part before the @-sign", "The user name (before the @)"),
    ("The part after the @-sign", "The domain (after the @)"),
    ("something before the @-sign", "a user name before the @"),
    ("something after the @-sign", "a domain after the @"),
    ("before the @-sign", "in the user name (before the @)"),
    ("after the @-sign", "in the domain (after the @)"),
    ("an @-sign", "an @ between the user name and the domain"),
)


def normalise_address(value: str) -> str:
    """The address in its normal form, or ValidationError saying which part is wrong."""
    # Operators who allow private hosts also use names like mail.lan or example.test.
    private = settings.MAIL_ALLOW_PRIVATE_HOSTS
    try:
        checked = validate_email(
            value.strip(),
            check_deliverability=False,
            globally_deliverable=not private,
            test_environment=private,
        )
    except EmailNotValidError as exc:
        message = str(exc)
        for technical, plain in _PARTS:
            message = message.replace(technical, plain)
        raise ValidationError(message, code="invalid_address") from None
    return checked.normalized
