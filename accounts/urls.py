from django.urls import include, path

app_name = "accounts"

urlpatterns = [
    # Signing in and out, passwords, sign-up and two-factor (accounts/urls_auth.py).
    path("", include("accounts.urls_auth")),
    # Mail accounts and identities (accounts/urls_mail.py).
    path("settings/", include("accounts.urls_mail")),
]
