"""What a person already saved among titles a page lists: one query per kind on the page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from media.kinds import KINDS, Kind
from media.models import CatalogItem, SavedItem, Status

CONTINUE_LIMIT = 6


def saved_states(
    user, items_by_kind: Mapping[str | Kind, Iterable[CatalogItem]]
) -> dict[tuple[str, int], SavedItem]:
    """`user`'s saves of the listed items, keyed by (kind key, item pk).

    One query per kind that has items listed (none for a signed-out person); each save gets
    the listed item as its own, so its progress texts read the item's totals without a query.
    Templates look one up with `{{ saves|saved_of:item }}` (`media.templatetags.shelf`).
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    states: dict[tuple[str, int], SavedItem] = {}
    for key, items in items_by_kind.items():
        kind = KINDS[str(key)]
        by_pk = {item.pk: item for item in items}
        if not by_pk:
            continue
        rows = kind.saved_model.objects.filter(
            user=user, **{f"{kind.item_field}_id__in": list(by_pk)}
        )
        for saved in rows:
            item = by_pk[getattr(saved, f"{kind.item_field}_id")]
            setattr(saved, kind.item_field, item)
            states[(kind.key, item.pk)] = saved
    return states


def in_progress(user, limit: int = CONTINUE_LIMIT) -> list[SavedItem]:
    """`user`'s saves in progress, most recently updated first, across kinds: at most `limit`,
    in one query per kind (each reads its `saved_<kind>_user_updated` index), items joined."""
    if not getattr(user, "is_authenticated", False):
        return []
    rows: list[SavedItem] = []
    for kind in KINDS.values():
        rows += (
            kind.saved_model.objects.filter(user=user, status=Status.IN_PROGRESS)
            .select_related(kind.item_field)
            .defer(f"{kind.item_field}__synopsis")
            .order_by("-updated", "-id")[:limit]
        )
    rows.sort(key=lambda saved: (saved.updated, saved.pk), reverse=True)
    return rows[:limit]
