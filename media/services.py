"""Saving, unsaving and undoing: the writes that views, commands and tests call.

Save and unsave are single statements where they can be, because they are the busiest
writes; the SQL is spelled out here, once, for every kind, from the kind's models.
"""

from __future__ import annotations

import enum
import json
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from media.kinds import Kind
from media.models import CatalogItem, RemovedSave, SavedItem, from_columns

BIGINT_MAX = 2**63 - 1
# How long Undo can bring back a removed save: long enough for a press kept offline.
UNDO_WINDOW = timedelta(days=7)
# The tombstones a new removal makes useless: expired ones, and an earlier removal of the same
# title (Undo brings back the latest), so a person keeps at most one per title removed lately.
SUPERSEDED = "(removed < %s OR (kind = %s AND item_id = %s))"


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


def _prepared(row: SavedItem, fields) -> list:
    """The values a new row gets for `fields`, as the ORM would insert them (`created` now)."""
    return [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]


def _insert(row: SavedItem, *, as_is: bool) -> bool:
    """INSERT `row` unless the person has saved its item already; True when it was written.

    One statement, atomic on its own. `as_is` keeps every value the row holds (its id and
    times too, for Undo); otherwise the database numbers it and `created` is now.
    """
    fields = [f for f in row._meta.local_concrete_fields if as_is or not f.primary_key]
    if as_is:
        values = [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields]
    else:
        values = _prepared(row, fields)
    sql = (
        f"INSERT INTO {_quote(row._meta.db_table)} ({', '.join(_quote(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.rowcount == 1


def save_item(user, kind: Kind, pk: int) -> CatalogItem | None:
    """Save item `pk` of `kind` for `user`; return the item (its id and title), or None when
    there is no such item. Saving what is already saved is a no-op, never an error.

    INSERT ... ON CONFLICT DO NOTHING on the unique (user, item) constraint: concurrent or
    repeated saves leave exactly one row, without a transaction around a single statement.
    On PostgreSQL the item is found in the same statement (Save is the busiest write).
    """
    if connection.vendor != "postgresql":
        item = find_item(kind, pk)
        if item is not None:
            _insert(
                kind.saved_model(user=user, item_title=item.title, **{kind.item_field: item}),
                as_is=False,
            )
        return item
    if not 0 < pk <= BIGINT_MAX:
        return None
    model = kind.saved_model
    row = model(user=user, **{f"{kind.item_field}_id": pk})
    fk = model._meta.get_field(kind.item_field).attname
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
    from_item = {fk: "item.id", "item_title": "item.title"}
    values = [from_item.get(f.attname, "%s") for f in fields]
    sql = (
        f"WITH item AS (SELECT id, title FROM {_quote(kind.item_model._meta.db_table)}"
        f" WHERE id = %s), added AS (INSERT INTO {_quote(model._meta.db_table)}"
        f" ({', '.join(_quote(f.column) for f in fields)}) SELECT {', '.join(values)} FROM item"
        " ON CONFLICT DO NOTHING) SELECT title FROM item"
    )
    params = _prepared(row, [f for f in fields if f.attname not in from_item])
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, *params])
        found = cursor.fetchone()
    return None if found is None else kind.item_model(id=pk, title=found[0])


def unsave_item(user, kind: Kind, pk: int) -> tuple[CatalogItem | None, int | None]:
    """Remove `user`'s save of item `pk` and keep it for Undo; return the item (None when there
    is no such item) and the removal's id.

    Only that user's row can match. When there was nothing to remove (a repeated press), the
    person's latest removal of the item is returned instead, so the answer still offers Undo.
    The row and its tombstone change together; the person's expired tombstones go, and so
    does an earlier one of the same item.
    """
    if not 0 < pk <= BIGINT_MAX:
        return None, None
    model = kind.saved_model
    table = _quote(model._meta.db_table)
    column = _quote(model._meta.get_field(kind.item_field).column)
    removals = _quote(RemovedSave._meta.db_table)
    now = timezone.now()
    # Raw SQL gets the times as the ORM would write them (SQLite keeps UTC without a zone).
    at, cutoff = (connection.ops.adapt_datetimefield_value(t) for t in (now, now - UNDO_WINDOW))
    if connection.vendor == "postgresql":
        # One statement: the item found, the row deleted and kept, the old ones purged (only
        # when a row went: a repeated press must keep the Undo it offers).
        sql = (
            f"WITH item AS (SELECT id, title FROM {_quote(kind.item_model._meta.db_table)}"
            f" WHERE id = %s), gone AS (DELETE FROM {table} WHERE user_id = %s"
            f" AND {column} = %s RETURNING *), purged AS (DELETE FROM {removals}"
            f" WHERE EXISTS (SELECT FROM gone) AND user_id = %s AND {SUPERSEDED}),"
            f" kept AS (INSERT INTO {removals}"
            " (user_id, kind, item_id, data, removed) SELECT user_id, %s, "
            f"{column}, row_to_json(gone)::jsonb, %s FROM gone RETURNING id)"
            " SELECT title, (SELECT id FROM kept) FROM item"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk, user.pk, pk, user.pk, cutoff, kind.key, pk, kind.key, at])
            found = cursor.fetchone()
        if found is None:
            return None, None
        item, removal = kind.item_model(id=pk, title=found[0]), found[1]
    else:
        item = find_item(kind, pk)
        if item is None:
            return None, None
        # SQLite takes the write lock first (IMMEDIATE), so nothing comes between these.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE user_id = %s AND {column} = %s RETURNING *",
                [user.pk, pk],
            )
            found = cursor.fetchone()
            removal = None
            if found is not None:
                data = {
                    column[0]: value.isoformat() if isinstance(value, date) else value
                    for column, value in zip(cursor.description, found, strict=True)
                }
                cursor.execute(
                    f"DELETE FROM {removals} WHERE user_id = %s AND {SUPERSEDED}",
                    [user.pk, cutoff, kind.key, pk],
                )
                cursor.execute(
                    f"INSERT INTO {removals} (user_id, kind, item_id, data, removed)"
                    " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    [user.pk, kind.key, pk, json.dumps(data), at],
                )
                removal = cursor.fetchone()[0]
    if removal is None:
        removal = (
            RemovedSave.objects.filter(
                user=user, kind=kind.key, item_id=pk, removed__gte=now - UNDO_WINDOW
            )
            .order_by("-removed")
            .values_list("pk", flat=True)
            .first()
        )
    return item, removal


class Restored(enum.Enum):
    """What an Undo did."""

    RESTORED = "restored"  # the save is back as it was
    ALREADY = "already"  # nothing left to undo, and the item is on the shelf (a replay)
    SAVED_AGAIN = "saved again"  # saved anew since: that save is kept, the old one too
    GONE = "gone"  # nothing to undo: too old, never removed, or not this person's
    REFUSED = "refused"  # the item changed so that the old tracking no longer fits


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
        row = from_columns(kind.saved_model, removal.data)
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
