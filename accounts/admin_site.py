"""The admin site: staff who have a TOTP device must have given a code in this session.

django-otp's OTPAdminSite would shut out every staff member without a device (including the
first admin on a fresh install). Here the admin asks for the code only when the person has
a device, both on its own login form and when a session from /login/ reaches it; the
device-less are handled by "two-factor required" (the user flag or ACCOUNTS_REQUIRE_TWO_FACTOR),
which sends them to set a device up first.
"""

from django.contrib import admin
from django.http import HttpRequest

from accounts import two_factor
from accounts.forms_auth import AdminSignInForm


class WebmailAdminSite(admin.AdminSite):
    login_form = AdminSignInForm
    login_template = "accounts/auth/admin_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and two_factor.session_is_verified(request)
