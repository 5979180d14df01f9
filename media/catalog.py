"""Titles from providers into the catalog: add one, bring one up to date, find what is due.

The catalog is the source of truth for pages; a provider's record (`media.providers.Record`)
only feeds it. Adding is idempotent on the provider's id, including two adds at once (the
id's unique constraint decides, the loser reads the winner's row). A refresh never lowers a
total below what someone has tracked: it keeps the old total and logs why, since the
database would refuse the row (`media.triggers`, "progress guards").
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from media.kinds import Kind
from media.models import CatalogItem, ReleaseStatus

logger = logging.getLogger("shelf.catalog")

# Titles whose facts may still change are read again once they are this old.
REFRESH_AFTER = timedelta(days=1)
# Release states in which a title's totals can still grow.
MAY_CHANGE = (ReleaseStatus.RELEASING, ReleaseStatus.HIATUS, ReleaseStatus.UPCOMING)


def find_by_ids(kind: Kind, record) -> CatalogItem | None:
    """The catalog's row for `record`: by the provider's id, else by another id it shares
    (a movie's IMDb id), else None."""
    model = kind.item_model
    wanted = Q()
    for field in model.external_id_fields:
        value = record.ids.get(field)
        if value not in (None, ""):
            wanted |= Q(**{field: value})
    if not wanted:
        return None
    rows = list(model.objects.filter(wanted)[:2])
    for row in rows:
        if getattr(row, model.provider_id_field) == record.provider_id:
            return row
    return rows[0] if rows else None


def local_namesake(kind: Kind, record) -> CatalogItem | None:
    """A title of the catalog's own (no provider id) with the record's title and year: the
    demo catalog's or an admin's entry, which the provider's title then completes."""
    if record.year is None:
        return None
    model = kind.item_model
    return (
        model.objects.filter(
            **{f"{model.provider_id_field}__isnull": True},
            title__iexact=record.title,
            year=record.year,
        )
        .order_by("id")
        .first()
    )


def add_record(kind: Kind, record) -> tuple[CatalogItem, bool]:
    """The catalog row for a provider's title, made if it is missing: (item, created).

    A local entry with the same title and year takes the provider's ids and facts instead of
    gaining a twin. Adding the same title again, or twice at once, gives the same row.
    """
    item = find_by_ids(kind, record)
    if item is not None:
        if item.provider_id is None:
            apply_record(kind, item, record)  # found by another id (IMDb): it takes the rest
        return item, False
    namesake = local_namesake(kind, record)
    if namesake is not None:
        apply_record(kind, namesake, record)
        return namesake, False
    item = kind.item_model(**record.catalog_fields(), refreshed=timezone.now())
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        # Someone added it between the look-up and the insert: theirs is the row.
        item = find_by_ids(kind, record)
        if item is None:
            raise
        return item, False
    logger.info("Added %s %s from %s", kind.key, item, record.provider)
    return item, True


def apply_record(kind: Kind, item: CatalogItem, record) -> list[str]:
    """Bring `item` up to date with its provider's `record`; the names of the fields changed.

    What the record does not know (an empty poster, a null total, no year) never erases what
    the catalog knows. A total that grows is taken; one that would drop below progress
    someone has tracked is kept, and logged.
    """
    fields = record.catalog_fields()
    most = kind.saved_model.tracked_most(item)
    changed = []
    for name, value in fields.items():
        if value in (None, "", []) or getattr(item, name) == value:
            continue
        kept = item.within_tracked(name, value, most)
        if kept != value:
            logger.warning(
                "Kept %s of %s %s (pk %s) at %s: %s says %s, below the %s someone tracked",
                name, kind.key, item.title, item.pk, kept, record.provider, value, most[name],
            )  # fmt: skip
            if kept == getattr(item, name):
                continue
            value = kept
        if name in item.external_id_fields and name != item.provider_id_field:
            clash = kind.item_model.objects.filter(**{name: value}).exclude(pk=item.pk)
            if clash.exists():
                continue  # another row already holds that id: it is not this one's to take
        setattr(item, name, value)
        changed.append(name)
    item.refreshed = timezone.now()
    item.save(update_fields=[*changed, "refreshed"])
    if changed:
        logger.info("Refreshed %s %s: %s", kind.key, item, ", ".join(changed))
    return changed


def due_for_refresh(kind: Kind):
    """The titles of `kind` a provider may have news of: still releasing (or not out yet),
    with a provider id, not read for a day."""
    model = kind.item_model
    stale = timezone.now() - REFRESH_AFTER
    return model.objects.filter(
        Q(refreshed__isnull=True) | Q(refreshed__lt=stale),
        **{f"{model.provider_id_field}__isnull": False},
        release_status__in=MAY_CHANGE,
    ).order_by("refreshed", "id")


def refresh_item(kind: Kind, item: CatalogItem, *, budget: float | None = None) -> list[str]:
    """Read `item` again from its kind's provider and apply it; the fields changed.

    Raises the provider's errors (`media.providers.ProviderError`) for the caller to count.
    """
    record = kind.provider.fetch(kind.key, item.provider_id, budget=budget)
    return apply_record(kind, item, record)
