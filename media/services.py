"""Saving, unsaving and undoing: the writes that views, commands and tests call.

Save and unsave are single statements where they can be, because they are the busiest
writes; the SQL is spelled out here, once, for every kind, from the kind's models.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, timedelta

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.timezone import is_naive, make_aware

from media.kinds import Kind
from media.models import CatalogItem, RemovedSave, SavedItem

BIGINT_MAX = 2**63 - 1
# How long Undo can bring back a removed save: long enough for a press kept offline.
UNDO_WINDOW = timedelta(days=7)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def find_item(kind: Kind, pk: int) -> CatalogItem | None:
    """The item `pk` of `kind` with just its id and title, or None: what Save needs.

    One plain SELECT: Save is the busiest write, and the ORM's query building would cost
    it more than the database does.
    """
    if not 0 < pk <= BIGINT_MAX:
        return None  # no such id, and no such number for the database either
    model = kind.item_model
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_quote('title')} FROM {_quote(model._meta.db_table)}"
            f" WHERE {_quote('id')} = %s",
            [pk],
        )
        row = cursor.fetchone()
    return None if row is None else model(id=pk, title=row[0])


def _insert(row: SavedItem, *, as_is: bool) -> bool:
    """INSERT `row` unless the person has saved its item already; True when it was written.

    One statement, atomic on its own. `as_is` keeps every value the row holds (its id and
    times too, for Undo); otherwise the database numbers it and `created` is now.
    """
    fields = [f for f in row._meta.local_concrete_fields if as_is or not f.primary_key]
    values = [
        f.get_db_prep_save(
            getattr(row, f.attname) if as_is else f.pre_save(row, add=True), connection
        )
        for f in fields
    ]
    sql = (
        f"INSERT INTO {_quote(row._meta.db_table)} ({', '.join(_quote(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount == 1


def save_item(user, kind: Kind, item: CatalogItem) -> None:
    """Save `item` for `user`; saving what is already saved is a no-op, never an error.

    INSERT ... ON CONFLICT DO NOTHING on the unique (user, item) constraint: concurrent or
    repeated saves leave exactly one row, without a transaction around a single statement.
    """
    _insert(
        kind.saved_model(user=user, item_title=item.title, **{kind.item_field: item}),
        as_is=False,
    )


def unsave_item(user, kind: Kind, item: CatalogItem) -> int | None:
    """Remove `user`'s save of `item` and keep it for Undo; return the removal's id.

    Only that user's row can match. When there was nothing to remove (a repeated press), the
    person's latest removal of the item is returned instead, so the answer still offers Undo.
    The row and its tombstone change together, and expired tombstones of the person go.
    """
    model = kind.saved_model
    table, column = (
        _quote(model._meta.db_table),
        _quote(model._meta.get_field(kind.item_field).column),
    )
    removals = _quote(RemovedSave._meta.db_table)
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement: the row is deleted, kept and the old ones purged, or none of it.
        sql = (
            f"WITH gone AS (DELETE FROM {table} WHERE user_id = %s AND {column} = %s"
            f" RETURNING *), purged AS (DELETE FROM {removals} WHERE user_id = %s"
            f" AND removed < %s) INSERT INTO {removals} (user_id, kind, item_id, data, removed)"
            f" SELECT user_id, %s, {column}, row_to_json(gone)::jsonb, %s FROM gone RETURNING id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk, item.pk, user.pk, now - UNDO_WINDOW, kind.key, now])
            found = cursor.fetchone()
        removal = found[0] if found else None
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM {table} WHERE user_id = %s AND {column} = %s", [user.pk, item.pk]
            )
            found = cursor.fetchone()
            removal = None
            if found is not None:
                data = {
                    column[0]: value.isoformat() if isinstance(value, date) else value
                    for column, value in zip(cursor.description, found, strict=True)
                }
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [data["id"]])
                cursor.execute(
                    f"DELETE FROM {removals} WHERE user_id = %s AND removed < %s",
                    [user.pk, now - UNDO_WINDOW],
                )
                removal = RemovedSave.objects.create(
                    user=user, kind=kind.key, item_id=item.pk, data=data, removed=now
                ).pk
    if removal is None:
        removal = (
            RemovedSave.objects.filter(
                user=user, kind=kind.key, item_id=item.pk, removed__gte=now - UNDO_WINDOW
            )
            .order_by("-removed")
            .values_list("pk", flat=True)
            .first()
        )
    return removal


class Restored(enum.Enum):
    """What an Undo did."""

    RESTORED = "restored"  # the save is back as it was
    ALREADY = "already"  # nothing left to undo, and the item is on the shelf (a replay)
    SAVED_AGAIN = "saved again"  # saved anew since: that save is kept, the old one too
    GONE = "gone"  # nothing to undo: too old, never removed, or not this person's
    REFUSED = "refused"  # the item changed so that the old tracking no longer fits


def _row_from(model: type[SavedItem], data: dict) -> SavedItem:
    """A saved model instance with exactly the values the database returned for a row."""
    values = {}
    for field in model._meta.concrete_fields:
        value = field.to_python(data.get(field.column))
        if isinstance(field, models.DateTimeField) and value is not None and is_naive(value):
            value = make_aware(value, UTC)  # SQLite keeps UTC times without their zone
        values[field.attname] = value
    return model(**values)


def restore_item(user, kind: Kind, item: CatalogItem, removal_id: int) -> Restored:
    """Undo `user`'s removal `removal_id` of `item`: put the row back exactly as it was.

    Idempotent: the tombstone goes in the same transaction as the row comes back, so a
    replayed Undo finds nothing to do. Another person's removal is never found.
    """
    with transaction.atomic():
        removal = (
            RemovedSave.objects.select_for_update()
            .filter(
                pk=removal_id,
                user=user,
                kind=kind.key,
                item_id=item.pk,
                removed__gte=timezone.now() - UNDO_WINDOW,
            )
            .first()
        )
        if removal is None:
            saved = kind.saved_model.objects.filter(user=user, **{kind.item_field: item}).exists()
            return Restored.ALREADY if saved else Restored.GONE
        row = _row_from(kind.saved_model, removal.data)
        try:
            with transaction.atomic():
                written = _insert(row, as_is=True)
        except IntegrityError:
            return Restored.REFUSED  # a total lowered below the old progress, say
        if not written:
            return Restored.SAVED_AGAIN
        removal.delete()
        return Restored.RESTORED


def get_saved(user, kind: Kind, item: CatalogItem) -> SavedItem | None:
    """`user`'s save of `item`, or None (also for anonymous users)."""
    if not user.is_authenticated:
        return None
    saved = kind.saved_model.objects.filter(user=user, **{kind.item_field: item}).first()
    if saved is not None:
        setattr(saved, kind.item_field, item)  # already loaded: spare the query
    return saved
