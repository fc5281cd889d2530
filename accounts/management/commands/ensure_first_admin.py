"""`manage.py ensure_first_admin`: the first run's admin, so a newcomer can sign in at once.

When no superuser exists it creates `admin` with a random password, stores the password in a
file readable only by its owner under DATA_DIR, and prints how to sign in. Later runs only
print the hint. It never changes an existing user.
"""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

PASSWORD_FILE_NAME = "first-admin-password.txt"  # noqa: S105 (a file name)


class Command(BaseCommand):
    help = "Creates the first admin user when there is none, and prints how to sign in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=settings.SITE_URL, help="Where the app is served.")

    def handle(self, *args: Any, url: str, **options: Any) -> None:
        users = get_user_model()
        password_file = settings.DATA_DIR / PASSWORD_FILE_NAME
        admin = users.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is None:
            password = secrets.token_urlsafe(12)
            admin = users.objects.create_superuser("admin", "", password)
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
            password_file.touch(mode=0o600)
            password_file.write_text(password + "\n")
            self.stdout.write(
                f"sign in at {url}/admin/ as '{admin.get_username()}' with password {password} "
                f"(also saved in {password_file}; change it in the admin)"
            )
            return
        where = f" (first password in {password_file})" if password_file.exists() else ""
        self.stdout.write(f"sign in at {url}/admin/ as '{admin.get_username()}'{where}")
