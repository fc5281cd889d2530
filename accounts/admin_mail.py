"""Admin for mail accounts. Stored passwords and OAuth tokens are never shown, not even
encrypted."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import truncatechars

from accounts.models_mail import Identity, MailAccount
from accounts.models_oauth import OAuthGrant


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("name", "email", "reply_to", "is_default")


class OAuthGrantInline(admin.StackedInline):
    """The account's OAuth sign-in, read only: whether it works and until when (the tokens'
    fields are not editable, so no form or page carries them). Only the person can sign in
    again, from their accounts page."""

    model = OAuthGrant
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = (
        "provider",
        "needs_sign_in",
        "sign_in_problem",
        "access_token_expires_at",
        "updated_at",
    )
    verbose_name = "OAuth sign-in"


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "user",
        "incoming_protocol",
        "incoming_host",
        "smtp_host",
        "is_enabled",
        "last_sync_at",
        "short_last_error",
    )
    list_filter = ("is_enabled", "incoming_protocol", "provider")
    search_fields = ("email", "display_name", "user__username", "user__email", "incoming_host")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("provider", "last_sync_at", "last_error", "last_error_at", "created_at")
    # The encrypted password fields are not editable, so they never reach a form or a page.
    fieldsets = (
        (None, {"fields": ("user", "email", "display_name", "is_enabled", "provider")}),
        (
            "Incoming",
            {
                "fields": (
                    "incoming_protocol",
                    "incoming_host",
                    "incoming_port",
                    "incoming_security",
                    "incoming_username",
                    "incoming_trusted_fingerprint",
                )
            },
        ),
        (
            "Outgoing",
            {
                "fields": (
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_username",
                    "smtp_trusted_fingerprint",
                )
            },
        ),
        ("Sync", {"fields": ("last_sync_at", "last_error", "last_error_at", "created_at")}),
    )
    inlines = [IdentityInline, OAuthGrantInline]
    actions = ("disable_accounts", "enable_accounts")

    @admin.display(description="last error")
    def short_last_error(self, account: MailAccount) -> str:
        return truncatechars(account.last_error, 80)

    @admin.action(description="Disable the selected accounts (sync and sending stop)")
    def disable_accounts(self, request: HttpRequest, queryset: QuerySet[MailAccount]) -> None:
        changed = queryset.update(is_enabled=False)
        self.message_user(request, f"{changed} account(s) disabled.", messages.SUCCESS)

    @admin.action(description="Enable the selected accounts")
    def enable_accounts(self, request: HttpRequest, queryset: QuerySet[MailAccount]) -> None:
        changed = queryset.update(is_enabled=True)
        self.message_user(request, f"{changed} account(s) enabled.", messages.SUCCESS)
