"""Saved responses: named texts a person keeps and inserts into a message they write."""

from django.conf import settings
from django.db import models


class SavedResponse(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_responses"
    )
    name = models.CharField(max_length=100)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="one_response_per_name")
        ]

    def __str__(self) -> str:
        return self.name
