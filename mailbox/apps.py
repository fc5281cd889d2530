from django.apps import AppConfig


class MailboxConfig(AppConfig):
    # This package shadows the standard library's `mailbox` module inside the project: never
    # rely on a plain `import mailbox` meaning the standard one.
    name = "mailbox"
    verbose_name = "Mail"
