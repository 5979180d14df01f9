"""Admin for the catalog and the saved tables, generated from the kinds registry."""

from __future__ import annotations

from django.contrib import admin

from media.kinds import KINDS


class SavedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        obj.reconcile(form.changed_data)  # the same rule as the site's own forms
        super().save_model(request, obj, form, change)


for kind in KINDS.values():
    admin.site.register(
        kind.item_model,
        type(
            f"{kind.item_model.__name__}Admin",
            (admin.ModelAdmin,),
            {
                "list_display": ["title", "year", *(fact.field for fact in kind.item_model.facts)],
                "search_fields": ["title"],
                "list_filter": ["year"],
                "ordering": ["title", "year"],
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
