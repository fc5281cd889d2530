from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and mail accounts"

    def ready(self) -> None:
        # The mail-account admin has its own module (accounts/admin.py holds the user admin).
        from accounts import admin_mail, signals  # noqa: F401
