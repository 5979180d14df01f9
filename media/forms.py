from __future__ import annotations

from functools import cache
from typing import NamedTuple

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from media.feed import DEFAULT_SORT, SORTS, Cursor
from media.kinds import KINDS
from media.models import REWATCHES_MAX, SCORE_MAX, SCORE_MIN, SavedItem, Status
from media.services import BIGINT_MAX


class SaveIntent(NamedTuple):
    """The Save button's form: an explicit intent, so a repeated post repeats, never undoes.

    Undo names the removal it undoes, so a replayed Undo cannot bring back a later one.
    Read by hand, not by a Django form: Save is the busiest write, and setting up a form
    cost it more than all of these checks (`make bench`).
    """

    intent: str  # "save", "unsave" or "undo"
    removal: int | None

    @classmethod
    def read(cls, data) -> SaveIntent | None:
        """The posted intent and removal; None when they say neither save, unsave nor undo of
        a removal, or the removal is not an id."""
        intent, removal = data.get("intent"), data.get("removal", "").strip()
        if intent not in SAVE_INTENTS:
            return None
        if not removal:
            return None if intent == "undo" else cls(intent, None)
        if not (removal.isascii() and removal.isdigit() and 0 < int(removal) <= BIGINT_MAX):
            return None
        return cls(intent, int(removal))


SAVE_INTENTS = frozenset({"save", "unsave", "undo"})


class DashboardForm(forms.Form):
    """The dashboard's query string: filters, sort and the ?before= / ?after= cursors."""

    kind = forms.ChoiceField(
        required=False, choices=[("", "All")] + [(k.key, k.plural) for k in KINDS.values()]
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Status.choices])
    sort = forms.ChoiceField(
        required=False, choices=[(key, sort.label) for key, sort in SORTS.items()]
    )
    before = forms.CharField(required=False, max_length=500)
    after = forms.CharField(required=False, max_length=500)

    def clean_sort(self):
        return self.cleaned_data["sort"] or DEFAULT_SORT

    def clean(self):
        data = super().clean()
        if data.get("before") and data.get("after"):
            raise ValidationError("A page link has either 'before' or 'after', not both.")
        sort = SORTS[data.get("sort") or DEFAULT_SORT]
        for name in ("before", "after"):
            token = data.get(name)
            try:
                data[name] = Cursor.decode(token, sort) if token else None
            except ValueError:
                self.add_error(name, "This page link is not valid.")
        return data


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True, label="Search by title")


class AddForm(forms.Form):
    """A provider's title to add to the catalog, and whether to save it too."""

    provider_id = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    intent = forms.ChoiceField(choices=[("add", "Add"), ("save", "Save")])


class TrackingForm(forms.ModelForm):
    """Edits what a person tracks on one saved row; progress may not pass the item's total."""

    instance: SavedItem

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        saved = self.instance
        for counter in saved.counters:
            total = getattr(saved.item, counter.total)
            self.fields[counter.field].widget.attrs.update(
                min=0, **({"max": total} if total else {})
            )
        self.fields["score"].widget.attrs.update(min=SCORE_MIN, max=SCORE_MAX)
        if "rewatches" in self.fields:
            # A form from before the field existed (a page kept open, or kept offline) leaves
            # it as it is; an emptied box is none.
            self.fields["rewatches"].required = False
            self.fields["rewatches"].widget.attrs.update(min=0, max=REWATCHES_MAX)
        # A browser's maxlength counts UTF-16 units (an emoji is two), the server characters:
        # the server's count is the one that holds, and it says so beside the field.
        self.fields["note"].widget.attrs.pop("maxlength", None)

    def clean_rewatches(self):
        value = self.cleaned_data["rewatches"]
        if value is not None:
            return value
        widget = self.fields["rewatches"].widget
        if widget.value_omitted_from_data(self.data, self.files, self.add_prefix("rewatches")):
            return self.instance.rewatches
        return 0

    def clean(self):
        data = super().clean()
        saved = self.instance
        status, total = data.get("status"), saved.total
        progress = saved.progress_of(data)
        if (
            "status" in self.changed_data
            and status not in (None, "", Status.COMPLETED)
            and total
            and progress is not None
            and int(progress) >= total
        ):
            # At the end is completed; the person chooses which of the two to change.
            self.add_error("status", saved.at_end_message())
        return data


@cache
def tracking_form_class(model: type[SavedItem]) -> type[TrackingForm]:
    """The tracking form of a saved model, made from its `tracking_fields`."""
    widgets = {"note": forms.Textarea(attrs={"rows": 2})}
    for name in model.tracking_fields:
        if isinstance(model._meta.get_field(name), models.DateField):
            widgets[name] = forms.DateInput(attrs={"type": "date"})
    return forms.modelform_factory(
        model, form=TrackingForm, fields=model.tracking_fields, widgets=widgets
    )


def tracking_form(saved: SavedItem, data=None) -> TrackingForm:
    """The tracking form of one saved row; its ids stay unique on a page of many entries."""
    auto_id = f"id_{saved.item_field}_{saved.item.pk}_%s"
    return tracking_form_class(type(saved))(data, instance=saved, auto_id=auto_id)
