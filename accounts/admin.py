from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Sign-in", {"fields": ("two_factor_required",)}),
        ("Preferences", {"fields": ("time_zone",)}),
    )
    list_display = (*BaseUserAdmin.list_display, "two_factor_required")
    list_filter = (*BaseUserAdmin.list_filter, "two_factor_required")
