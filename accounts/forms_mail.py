"""Forms for mail accounts and identities. They produce AccountSettings for the services."""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models_mail import DEFAULT_PORTS, ConnectionSecurity, Identity, IncomingProtocol
from accounts.services.mail_accounts import AccountSettings
from accounts.validation import normalise_address
from mailbox.protocols.net import normalise_fingerprint
from mailbox.protocols.types import Protocol, Security, Server

# A host name or an IP address: no scheme, path, port or spaces.
HOST_PATTERN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_.:\-\[\]]*[A-Za-z0-9_\]])?$")


class AddressField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 320)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        return normalise_address(value) if value else value


def _clean_host(value: str) -> str:
    value = value.strip().rstrip(".").lower()
    if not HOST_PATTERN.match(value):
        raise ValidationError("Enter a server name such as imap.example.com (no https:// or port).")
    return value


def _clean_fingerprint(value: str) -> str:
    if not value:
        return ""
    try:
        return normalise_fingerprint(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class AccountForm(forms.Form):
    """All of an account's settings. On edit, empty passwords keep the saved ones."""

    email = AddressField(label="Email address")
    display_name = forms.CharField(label="Your name", max_length=200, required=False)
    password = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "off"}), strip=False
    )
    incoming_protocol = forms.ChoiceField(
        label="Incoming protocol", choices=IncomingProtocol.choices
    )
    incoming_host = forms.CharField(label="Incoming server", max_length=253)
    incoming_port = forms.IntegerField(
        label="Incoming port", min_value=1, max_value=65535, required=False
    )
    incoming_security = forms.ChoiceField(
        label="Incoming security", choices=ConnectionSecurity.choices
    )
    incoming_username = forms.CharField(label="Incoming user name", max_length=320, required=False)
    incoming_trusted_fingerprint = forms.CharField(required=False, widget=forms.HiddenInput)
    smtp_host = forms.CharField(label="Outgoing (SMTP) server", max_length=253)
    smtp_port = forms.IntegerField(label="SMTP port", min_value=1, max_value=65535, required=False)
    smtp_security = forms.ChoiceField(label="SMTP security", choices=ConnectionSecurity.choices)
    smtp_username = forms.CharField(label="SMTP user name", max_length=320, required=False)
    smtp_password = forms.CharField(
        label="SMTP password",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        strip=False,
        required=False,
        help_text="Leave empty to use the same password as for incoming mail.",
    )
    smtp_trusted_fingerprint = forms.CharField(required=False, widget=forms.HiddenInput)
    provider = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["password"].required = False
            self.fields["password"].help_text = "Leave empty to keep the saved password."

    @property
    def trusted_fingerprints(self) -> list[tuple[str, str]]:
        """(side, fingerprint) of certificates trusted so far, to keep or drop."""
        source = self.data if self.is_bound else self.initial
        found = [
            (side, source.get(f"{side}_trusted_fingerprint", "")) for side in ("incoming", "smtp")
        ]
        return [(side, fingerprint) for side, fingerprint in found if fingerprint]

    def clean_incoming_host(self) -> str:
        return _clean_host(self.cleaned_data["incoming_host"])

    def clean_smtp_host(self) -> str:
        return _clean_host(self.cleaned_data["smtp_host"])

    def clean_incoming_trusted_fingerprint(self) -> str:
        return _clean_fingerprint(self.cleaned_data["incoming_trusted_fingerprint"])

    def clean_smtp_trusted_fingerprint(self) -> str:
        return _clean_fingerprint(self.cleaned_data["smtp_trusted_fingerprint"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        protocol = Protocol(data["incoming_protocol"])
        incoming_security = Security(data["incoming_security"])
        smtp_security = Security(data["smtp_security"])
        data["incoming_port"] = (
            data["incoming_port"] or DEFAULT_PORTS[(protocol, incoming_security)]
        )
        data["smtp_port"] = data["smtp_port"] or DEFAULT_PORTS[(Protocol.SMTP, smtp_security)]
        data["incoming_username"] = data["incoming_username"] or data["email"]
        data["smtp_username"] = data["smtp_username"] or data["incoming_username"]
        return data

    def account_settings(self) -> AccountSettings:
        data = self.cleaned_data
        return AccountSettings(
            email=data["email"],
            display_name=data["display_name"],
            incoming_protocol=Protocol(data["incoming_protocol"]),
            incoming=Server(
                data["incoming_host"], data["incoming_port"], Security(data["incoming_security"])
            ),
            incoming_username=data["incoming_username"],
            smtp=Server(data["smtp_host"], data["smtp_port"], Security(data["smtp_security"])),
            smtp_username=data["smtp_username"],
            incoming_trusted_fingerprint=data["incoming_trusted_fingerprint"],
            smtp_trusted_fingerprint=data["smtp_trusted_fingerprint"],
            provider=data["provider"],
        )

    def smtp_password_or_incoming(self) -> str:
        return self.cleaned_data["smtp_password"] or self.cleaned_data["password"]


class IdentityForm(forms.ModelForm):
    email = AddressField(label="Email address")
    reply_to = AddressField(label="Reply-to", required=False)

    class Meta:
        model = Identity
        fields = ("name", "email", "reply_to", "signature", "is_default")
        labels = {"name": "Name", "signature": "Signature", "is_default": "Use by default"}
        widgets = {"signature": forms.Textarea(attrs={"rows": 4})}
