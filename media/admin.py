"""Admin for the catalog and the saved tables, generated from the kinds registry; and users."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models

from media.accounts import TAKEN
from media.auth import user_named
from media.kinds import KINDS


class CatalogAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["year", "release_status"]
    ordering = ["title", "year"]
    readonly_fields = ["refreshed"]

    def get_object(self, request, object_id, from_field=None):
        """The title as stored, with what it works out from its other fields noted before a
        form's validation changes it (`get_readonly_fields`)."""
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.stored_followers = obj.followers
        return obj

    def get_readonly_fields(self, request, obj=None):
        """Besides `refreshed`, what the title works out from its other fields (a show's totals
        from its seasons): an edit there would be replaced, so it is not offered. As the title
        was stored, so that a refused edit is shown again with the same fields."""
        followers = getattr(obj, "stored_followers", ())
        return [*super().get_readonly_fields(request, obj), *followers]


class SavedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        obj.reconcile(form.changed_data)  # the same rule as the site's own forms
        super().save_model(request, obj, form, change)


for kind in KINDS.values():
    admin.site.register(
        kind.item_model,
        type(
            f"{kind.item_model.__name__}Admin",
            (CatalogAdmin,),
            {
                "list_display": [
                    "title",
                    "year",
                    *(fact.field for fact in kind.item_model.facts),
                    *kind.item_model.external_id_fields,
                ],
                "search_fields": ["title", "search_text", *kind.item_model.external_id_fields],
            },
        ),
    )
    admin.site.register(
        kind.saved_model,
        type(
            f"{kind.saved_model.__name__}Admin",
            (SavedAdmin,),
            {
                "list_display": [
                    "user",
                    kind.item_field,
                    "status",
                    *kind.saved_model.progress_fields(),
                    "score",
                    "updated",
                ],
                "list_filter": ["status"],
                "list_select_related": ["user", kind.item_field],
                "search_fields": ["user__username", f"{kind.item_field}__title"],
                "autocomplete_fields": ["user", kind.item_field],
                "date_hierarchy": "created",
                "readonly_fields": ["created", "updated"],
                "fields": [
                    "user",
                    kind.item_field,
                    *kind.saved_model.tracking_fields,
                    "created",
                    "updated",
                ],
            },
        ),
    )


# Accounts: renaming a person in the admin is refused, with the sign-up page's words, when the
# new name is another account's in any case (the database would refuse it with an error).


class UserChangeForm(auth_forms.UserChangeForm):
    def clean_username(self):
        username = self.cleaned_data["username"]
        twin = user_named(username)
        if twin is not None and twin.pk != self.instance.pk:
            raise ValidationError(TAKEN, code="unique")
        return username


class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), UserAdmin)
