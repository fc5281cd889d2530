from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import MailAccount, User


class MailAccountInline(admin.TabularInline):
    """A user's mail accounts at a glance; details (and disabling) on each account's page."""

    model = MailAccount
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("email", "incoming_host", "is_enabled", "last_sync_at", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # accounts are added with a connection test, by their owner


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Sign-in", {"fields": ("two_factor_required",)}),
        ("Preferences", {"fields": ("time_zone",)}),
    )
    list_display = (*BaseUserAdmin.list_display, "two_factor_required")
    list_filter = (*BaseUserAdmin.list_filter, "two_factor_required")
    inlines = [MailAccountInline]
