"""Finding the servers of an address for "Add account" and `manage.py mailsettings`."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict

from accounts.discovery import discover
from accounts.discovery.types import Discovery
from accounts.models import MailAccount, User
from accounts.services.limits import check_network_allowance
from accounts.services.oauth import Availability, availability
from accounts.services.policy import network_policy
from accounts.validation import normalise_address


@dataclass(frozen=True)
class DiscoveryOutcome:
    found: Discovery | None
    problem: str = ""

    @classmethod
    def failed(cls, problem: str) -> "DiscoveryOutcome":
        return cls(None, problem)

    @property
    def summary(self) -> str:
        if self.problem:
            return self.problem
        if self.found is None:
            return (
                "We could not find the settings for this address. "
                "Please enter the servers your provider gives."
            )
        name = self.found.provider_name or self.found.incoming.host
        return f"Found the settings for {name}. Check them, then save."

    @property
    def sign_in_with(self) -> Availability | None:
        """The OAuth provider to offer for this address (unavailable: passwords, with a note)."""
        return availability(self.found.oauth) if self.found and self.found.oauth else None

    @property
    def notes(self) -> tuple[str, ...]:
        return self.found.notes if self.found else ()

    def initial(self, posted: QueryDict | dict[str, Any]) -> dict[str, Any]:
        """Form values: what the person typed, plus what was found."""
        values: dict[str, Any] = {
            "email": posted.get("email", ""),
            "display_name": posted.get("display_name", ""),
        }
        if self.found:
            values.update(initial_from_discovery(self.found))
        return values


def find_settings(address: str) -> Discovery | None:
    """Discovery for an address that is already valid (no limits: callers apply them)."""
    return discover(
        address,
        network_policy(timeout=settings.MAIL_PROBE_TIMEOUT_SECONDS),
        deadline_seconds=settings.MAIL_DISCOVERY_TIMEOUT_SECONDS,
        probe_timeout=settings.MAIL_PROBE_TIMEOUT_SECONDS,
    )


def discover_for_user(user: User, address: str) -> DiscoveryOutcome:
    try:
        address = normalise_address(address)
    except ValidationError as exc:
        return DiscoveryOutcome.failed(exc.messages[0])
    check_network_allowance(user.pk)
    return DiscoveryOutcome(find_settings(address))


def initial_from_discovery(found: Discovery) -> dict[str, Any]:
    return {
        "incoming_protocol": found.protocol.value,
        "incoming_host": found.incoming.host,
        "incoming_port": found.incoming.port,
        "incoming_security": found.incoming.security.value,
        "incoming_username": found.username,
        "smtp_host": found.outgoing.host,
        "smtp_port": found.outgoing.port,
        "smtp_security": found.outgoing.security.value,
        "smtp_username": found.outgoing_username,
        "provider": found.provider or "",
    }


def form_initial_from_account(account: MailAccount) -> dict[str, Any]:
    fields = (
        "email",
        "display_name",
        "incoming_protocol",
        "incoming_host",
        "incoming_port",
        "incoming_security",
        "incoming_username",
        "incoming_trusted_fingerprint",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_username",
        "smtp_trusted_fingerprint",
        "provider",
    )
    return {field: getattr(account, field) for field in fields}
