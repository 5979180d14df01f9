from __future__ import annotations

from functools import cache

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from media.feed import DEFAULT_SORT, SORTS, Cursor
from media.kinds import KINDS
from media.models import SCORE_MAX, SCORE_MIN, SavedItem, Status


class SaveForm(forms.Form):
    """The Save button's form: an explicit intent, so a repeated post repeats, never undoes."""

    intent = forms.ChoiceField(choices=[("save", "Save"), ("unsave", "Unsave")])


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


class TrackingForm(forms.ModelForm):
    """Edits what a person tracks on one saved row; progress may not pass the item's total."""

    instance: SavedItem

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        item = self.instance.item
        for name, total_name in self.instance.progress_totals.items():
            total = getattr(item, total_name)
            self.fields[name].widget.attrs.update(min=0, **({"max": total} if total else {}))
        if "score" in self.fields:
            self.fields["score"].widget.attrs.update(min=1, max=10)

    def clean_watched_on(self):
        watched_on = self.cleaned_data["watched_on"]
        if watched_on and watched_on > timezone.localdate():
            raise ValidationError("That date is in the future.")
        return watched_on

    def clean(self):
        data = super().clean()
        saved = self.instance
        if "watched" in data and not data["watched"]:
            data["watched_on"] = None  # unchecking "Watched" drops its date too
        status, total = data.get("status"), saved.total
        progress = data.get(saved.progress_field)
        if (
            "status" in self.changed_data
            and status not in (None, "", Status.COMPLETED)
            and total
            and progress is not None
            and int(progress) >= total
        ):
            # At the end is completed; the person chooses which of the two to change.
            title = saved.item.title
            self.add_error(
                "status",
                f"{title} is marked watched: uncheck Watched to give it another status."
                if not saved.progress_unit
                else f"{title} is at {total} of {total} {saved.progress_unit}, which is "
                f"completed: lower the {saved.progress_unit} to give it another status.",
            )
        return data


@cache
def tracking_form_class(model: type[SavedItem]) -> type[TrackingForm]:
    """The tracking form of a saved model, made from its `tracking_fields`."""
    widgets = {"note": forms.Textarea(attrs={"rows": 2})}
    if "watched_on" in model.tracking_fields:
        widgets["watched_on"] = forms.DateInput(attrs={"type": "date"})
    # The label says the range, so every form template can print labels as they are.
    labels = {"score": f"Score ({SCORE_MIN}–{SCORE_MAX})"}
    return forms.modelform_factory(
        model, form=TrackingForm, fields=model.tracking_fields, widgets=widgets, labels=labels
    )


def tracking_form(saved: SavedItem, data=None) -> TrackingForm:
    """The tracking form of one saved row; its ids stay unique on a page of many entries."""
    auto_id = f"id_{saved.item_field}_{saved.item.pk}_%s"
    return tracking_form_class(type(saved))(data, instance=saved, auto_id=auto_id)
