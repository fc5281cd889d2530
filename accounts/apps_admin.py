"""The Django admin, served by our own site class (kept out of this module: apps load first)."""

from django.contrib.admin.apps import AdminConfig


class WebmailAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.WebmailAdminSite"
