"""Mail accounts and the identities people send as.

An account holds the incoming (IMAP or POP3) and outgoing (SMTP) server settings and the
credentials for both, encrypted at rest (accounts/crypto.py). Passwords never leave this
module in clear except through `incoming_password()` / `smtp_password()`, for the one
connection that needs them.
"""

from django.conf import settings
from django.db import models

from accounts import crypto
from mailbox.protocols.types import Credentials, Protocol, Security, Server

DEFAULT_PORTS = {
    (Protocol.IMAP, Security.TLS): 993,
    (Protocol.IMAP, Security.STARTTLS): 143,
    (Protocol.IMAP, Security.NONE): 143,
    (Protocol.POP3, Security.TLS): 995,
    (Protocol.POP3, Security.STARTTLS): 110,
    (Protocol.POP3, Security.NONE): 110,
    (Protocol.SMTP, Security.TLS): 465,
    (Protocol.SMTP, Security.STARTTLS): 587,
    (Protocol.SMTP, Security.NONE): 25,  # only when a person asks for it
}


class IncomingProtocol(models.TextChoices):
    IMAP = Protocol.IMAP.value, "IMAP"
    POP3 = Protocol.POP3.value, "POP3"


class ConnectionSecurity(models.TextChoices):
    TLS = Security.TLS.value, "SSL/TLS"
    STARTTLS = Security.STARTTLS.value, "STARTTLS"
    NONE = Security.NONE.value, "None (unencrypted)"


class MailAccount(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_accounts"
    )
    email = models.EmailField("address")
    display_name = models.CharField(max_length=200, blank=True)

    incoming_protocol = models.CharField(
        max_length=8, choices=IncomingProtocol.choices, default=IncomingProtocol.IMAP
    )
    incoming_host = models.CharField(max_length=253)
    incoming_port = models.PositiveIntegerField()
    incoming_security = models.CharField(
        max_length=10, choices=ConnectionSecurity.choices, default=ConnectionSecurity.TLS
    )
    incoming_username = models.CharField(max_length=320)
    incoming_password_encrypted = models.TextField(blank=True, editable=False)
    # SHA-256 of a certificate the person chose to trust (self-signed servers).
    incoming_trusted_fingerprint = models.CharField(max_length=95, blank=True)

    smtp_host = models.CharField("SMTP host", max_length=253)
    smtp_port = models.PositiveIntegerField("SMTP port")
    smtp_security = models.CharField(
        "SMTP security",
        max_length=10,
        choices=ConnectionSecurity.choices,
        default=ConnectionSecurity.STARTTLS,
    )
    smtp_username = models.CharField("SMTP user name", max_length=320)
    smtp_password_encrypted = models.TextField(blank=True, editable=False)
    smtp_trusted_fingerprint = models.CharField(max_length=95, blank=True)
    # The SIZE the SMTP server announced at its last EHLO (RFC 1870; 0: no limit; None: not
    # announced or not connected yet); compose refuses attachments that would not fit.
    smtp_size_limit = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    provider = models.CharField(max_length=50, blank=True)  # from discovery, e.g. "gmail"
    is_enabled = models.BooleanField("enabled", default=True)
    # The sync schedule and its lease: one sync per account at a time across all workers,
    # claimed with a conditional UPDATE (mailbox/services/lease.py), renewed while it runs.
    sync_interval_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the operator's MAIL_SYNC_INTERVAL_SECONDS."
    )
    next_sync_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sync_lease_owner = models.CharField(max_length=100, blank=True, editable=False)
    sync_lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Failed polls in a row: the next poll waits longer each time (no hammering a server).
    sync_failures = models.PositiveSmallIntegerField(default=0, editable=False)
    # Written by the sync; shown to the person and in the admin.
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "email"], name="one_account_per_address"),
        ]

    def __str__(self) -> str:
        return self.email

    # Credentials ----------------------------------------------------------------------

    def set_incoming_password(self, password: str) -> None:
        self.incoming_password_encrypted = crypto.encrypt(password)

    def set_smtp_password(self, password: str) -> None:
        self.smtp_password_encrypted = crypto.encrypt(password)

    def incoming_credentials(self) -> Credentials:
        return Credentials(self.incoming_username, crypto.decrypt(self.incoming_password_encrypted))

    def smtp_credentials(self) -> Credentials:
        return Credentials(self.smtp_username, crypto.decrypt(self.smtp_password_encrypted))

    # Servers ----------------------------------------------------------------------------

    @property
    def incoming_server(self) -> Server:
        return Server(self.incoming_host, self.incoming_port, Security(self.incoming_security))

    @property
    def smtp_server(self) -> Server:
        return Server(self.smtp_host, self.smtp_port, Security(self.smtp_security))


class Identity(models.Model):
    """A From a person can send as: name, address, reply-to and signature."""

    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="identities")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField("address")
    reply_to = models.EmailField("reply-to", blank=True)
    signature = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "email", "pk"]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email
