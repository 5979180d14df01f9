from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from media.kinds import KINDS
from media.services import Cursor


class SaveForm(forms.Form):
    """The Save button's form: an explicit intent, so a repeated post repeats, never undoes."""

    intent = forms.ChoiceField(choices=[("save", "Save"), ("unsave", "Unsave")])
    next = forms.CharField(required=False, max_length=2000)


class CursorField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return Cursor.decode(value)
        except (ValueError, OverflowError):
            raise ValidationError("This page link is not valid.", code="invalid") from None


class DashboardForm(forms.Form):
    """The dashboard's query string: ?kind=, and ?before= / ?after= cursors."""

    kind = forms.ChoiceField(
        required=False, choices=[("", "All")] + [(k.key, k.plural) for k in KINDS.values()]
    )
    before = CursorField(required=False)
    after = CursorField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("before") and data.get("after"):
            raise ValidationError("A page link has either 'before' or 'after', not both.")
        return data


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True, label="Search by title")
