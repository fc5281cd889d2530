"""The compose form: From (the person's own identities only), recipients, subject, a plain
text body or rich text (`rich`, `html`), attachments, and the hidden Message-ID chosen when
the page opened (a second submission of the same page is the same message) with the thread
headers of a reply."""

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.models import Identity, User
from mailbox.content.compose_html import sanitize_compose_html
from mailbox.models import ComposeUpload
from mailbox.protocols.mime_build import MAX_ID_LENGTH
from mailbox.services import uploads
from mailbox.services.upload_limits import attachment_limit, size_problem

_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII but "<" and ">", as mime_build


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one <input type=file multiple>; a list, maybe empty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class SanitisedHtmlInput(forms.HiddenInput):
    """The editor's HTML, sanitised again whenever the page is shown (a form sent back with
    an error shows what was posted)."""

    def format_value(self, value: Any) -> str | None:
        return sanitize_compose_html(str(value)) if value else None


class ComposeForm(forms.Form):
    identity = forms.ModelChoiceField(label="From", queryset=Identity.objects.none())
    to = forms.CharField(label="To", required=False, max_length=10_000)
    cc = forms.CharField(label="Cc", required=False, max_length=10_000)
    bcc = forms.CharField(label="Bcc", required=False, max_length=10_000)
    subject = forms.CharField(label="Subject", required=False, max_length=998)
    text = forms.CharField(
        label="Message", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 16})
    )
    # Rich text (static/compose-editor.js): the editor writes its HTML into `html`, used
    # only with `rich` on (services/compose_format.py); both wait in a disabled fieldset
    # until the script runs, so without it the textarea is the message.
    rich = forms.BooleanField(label="Rich text", required=False)
    html = forms.CharField(widget=SanitisedHtmlInput, required=False, strip=False)
    attachments = MultipleFileField(label="Attachments", required=False)
    # "Send later": a local time in the person's zone (activated for the request).
    send_at = forms.DateTimeField(
        label="Send at",
        required=False,
        help_text="Send later: leave empty to send now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    message_id = forms.CharField(widget=forms.HiddenInput, max_length=MAX_ID_LENGTH)
    in_reply_to = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)
    references = forms.CharField(widget=forms.HiddenInput, required=False, max_length=10_000)

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        identities = Identity.objects.filter(account__user=user).select_related("account")
        self.fields["identity"].queryset = identities
        self.fields["identity"].empty_label = None
        self.fields["attachments"].help_text = f"Up to {filesizeformat(attachment_limit())} in all."
        self.user = user

    def clean_message_id(self) -> str:
        ids = _ids(self.cleaned_data["message_id"])
        if len(ids) != 1:
            raise forms.ValidationError("This page has lost its message id: open it again.")
        return ids[0]

    def clean_in_reply_to(self) -> tuple[str, ...]:
        return _ids(self.cleaned_data["in_reply_to"])

    def clean_references(self) -> tuple[str, ...]:
        return _ids(self.cleaned_data["references"])

    def clean_html(self) -> str:
        return sanitize_compose_html(self.cleaned_data["html"])

    def clean_send_at(self) -> dt.datetime | None:
        send_at: dt.datetime | None = self.cleaned_data["send_at"]
        if send_at is not None and send_at <= timezone.now():
            raise forms.ValidationError("This time has passed: choose one in the future.")
        return send_at

    def clean_attachments(self) -> list[UploadedFile]:
        """The form's files with those staged for this page (mailbox/services/uploads.py),
        against MAIL_MAX_UPLOAD_MB and the SMTP server's SIZE. The sizes are known before any
        file is read (large ones wait in temporary files)."""
        files: list[UploadedFile] = self.cleaned_data["attachments"]
        total = sum(item.size or 0 for item in files) + sum(item.size for item in self.staged)
        identity = self.cleaned_data.get("identity")
        problem = size_problem(total, identity.account if identity else None)
        if problem:
            raise forms.ValidationError(problem)
        return files

    @cached_property
    def staged(self) -> list[ComposeUpload]:
        """The files uploaded for this page's Message-ID (listed above the file input)."""
        message_id = str(self["message_id"].value() or "").strip()
        return uploads.staged(self.user, message_id) if uploads.is_message_id(message_id) else []

    @property
    def attachment_limit(self) -> int:
        return attachment_limit()


def _ids(value: str) -> tuple[str, ...]:
    """Message ids separated by spaces, each "<id@host>"; anything else is refused."""
    ids = tuple(value.split())
    if any(len(item) > MAX_ID_LENGTH or not _ID.fullmatch(item) for item in ids):
        raise forms.ValidationError("This is not a list of message ids like <id@host>.")
    return ids
