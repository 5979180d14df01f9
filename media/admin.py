"""Admin for the catalog and the saved tables, generated from the kinds registry."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from media.kinds import KINDS


class CatalogAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["year", "release_status"]
    ordering = ["title", "year"]
    readonly_fields = ["refreshed"]


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
                    kind.saved_model.progress_field,
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
