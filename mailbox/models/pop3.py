"""POP3 has no folders, UIDs or flags on the server: the set of UIDLs already downloaded is the
whole cursor. A row exists once the message is in the local store (inbox), never before."""

from django.db import models

from accounts.models import MailAccount


class Pop3Uidl(models.Model):
    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="pop3_uidls")
    uidl = models.CharField(max_length=70)  # RFC 1939: 1 to 70 characters
    message = models.ForeignKey(
        "mailbox.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    downloaded_at = models.DateTimeField(auto_now_add=True)
    # "Delete from the server after N days" works from this.
    deleted_on_server_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "uidl"], name="one_download_per_uidl"),
        ]

    def __str__(self) -> str:
        return self.uidl
