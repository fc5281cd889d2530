"""An OAuth 2.0 grant: how an account signs in when its provider wants tokens, not passwords.

The tokens live in their own row, one per account, rather than as fields on MailAccount:
MailAccount is saved whole by settings edits and its row is updated all the time by the sync
lease, while a refresh must write a new access token (and, with Microsoft, a rotated refresh
token) that no stale in-memory account may ever write back over. Here every write is a
conditional UPDATE of this row only, and the refresh lease (one refresh at a time across all
workers, accounts/services/oauth_tokens.py) has a row of its own to claim. Deleting the
account deletes its grant.

Both tokens are encrypted at rest (accounts/crypto.py), like the passwords.
"""

from django.db import models

from accounts import crypto
from accounts.models_mail import MailAccount


class OAuthGrant(models.Model):
    account = models.OneToOneField(
        MailAccount, on_delete=models.CASCADE, related_name="oauth_grant"
    )
    provider = models.CharField(max_length=50)  # the data file's "oauth" key, e.g. "google"
    refresh_token_encrypted = models.TextField(editable=False)
    access_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped by each refresh: a worker that waited for another's refresh sees it happened.
    generation = models.PositiveIntegerField(default=0, editable=False)
    refresh_lease_owner = models.CharField(max_length=100, blank=True, editable=False)
    refresh_lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The provider refused the refresh token (revoked, password changed): nothing will work
    # until the person signs in again; the message says so on their accounts page.
    needs_sign_in = models.BooleanField(default=False)
    sign_in_problem = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.provider} sign-in of account {self.account_id}"

    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted)

    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted) if self.access_token_encrypted else ""
