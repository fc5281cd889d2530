"""The draft form: the compose form's fields as typed, for saving rather than sending. Send
later's time and the file input are not part of a draft (files are staged on their own)."""

from typing import Any

from accounts.models import User
from mailbox.forms_compose import ComposeForm

NOT_SAVED = ("send_at", "attachments")


class DraftForm(ComposeForm):
    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        for name in NOT_SAVED:
            self.fields.pop(name, None)
