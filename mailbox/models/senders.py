"""Senders a person trusts to show remote images from ("Always show images from ...").

Keyed by the address as written in From, lowercased: a From header can be forged, so this only
decides whether remote images load (a tracking matter), never anything that touches safety.
"""

from django.conf import settings
from django.db import models


class TrustedSender(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_senders"
    )
    address = models.CharField(max_length=320)  # lowercased
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "address"], name="one_trust_per_sender"),
        ]

    def __str__(self) -> str:
        return self.address
