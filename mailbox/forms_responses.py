"""The saved response form: a name (unique among the person's own) and the text."""

from typing import Any

from django import forms

from accounts.models import User
from mailbox.models import SavedResponse


class SavedResponseForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    body = forms.CharField(
        label="Text", strip=False, widget=forms.Textarea(attrs={"rows": 10}), max_length=100_000
    )

    def __init__(self, user: User, *args: Any, editing: SavedResponse | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user, self.editing = user, editing

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = SavedResponse.objects.filter(user=self.user, name=name)
        if self.editing is not None:
            others = others.exclude(pk=self.editing.pk)
        if others.exists():
            raise forms.ValidationError(f"You already have a saved response called “{name}”.")
        return name

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError("Write the text to insert.")
        return body.replace("\r\n", "\n")
