"""Saving, unsaving and undoing: the writes that views, commands and tests call.

Save and unsave are single statements where they can be, because they are the busiest
writes; the SQL is spelled out here, once, for every kind, from the kind's models.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from media.kinds import Kind
from media.models import CatalogItem, RemovedSave, SavedItem, from_columns

BIGINT_MAX = 2**63 - 1
# How long Undo can bring back a removed save: long enough for a press kept offline.
UNDO_WINDOW = timedelta(days=7)
# The tombstones a new removal makes useless: an earlier removal of the same title (Undo brings
# back the latest), and expired ones; so a person keeps at most one per title removed lately.
# Each is a range of its own index, so a removal never reads the person's other tombstones.
SUPERSEDED = "kind = %s AND item_id = %s"
EXPIRED = "removed < %s"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def find_item(kind: Kind, pk: int) -> CatalogItem | None:
    """The item `pk` of `kind` with just its id and title, or None: what Save needs.

    One plain SELECT: Save is the busiest write, and the ORM's query building would cost
    it more than the database does.
    """
    if not 0 < pk <= BIGINT_MAX:
        return None  # no such id, and no such number for the database either
    with connection.cursor() as cursor:
        cursor.execute(_statements(kind, connection.vendor).find, [pk])
        row = cursor.fetchone()
    return None if row is None else kind.item_model(id=pk, title=row[1])


@dataclass(frozen=True)
class Statements:
    """A kind's save and unsave SQL, spelled out once per kind from its models: Save is the
    busiest write, and building these on every press cost it more than running them."""

    find: str  # the item's id and title, by id
    insert: str  # a new save, its values as `new_fields` (ON CONFLICT DO NOTHING)
    new_fields: list
    restore: str  # a removed save put back with all its columns, `all_fields`
    all_fields: list
    save: str  # PostgreSQL: find the item and insert, in one statement
    save_fields: list  # the values `save` takes after the item's id
    unsave: str  # PostgreSQL: find, delete, purge and keep, in one statement
    delete: str  # SQLite: delete the row, returning it
    purge: str  # SQLite: the tombstones a new removal makes useless
    keep: str  # SQLite: the removed row's tombstone, returning its id


@cache
def _statements(kind: Kind, vendor: str) -> Statements:
    model, item_table = kind.saved_model, _quote(kind.item_model._meta.db_table)
    table, removals = _quote(model._meta.db_table), _quote(RemovedSave._meta.db_table)
    fk = model._meta.get_field(kind.item_field)
    column = _quote(fk.column)
    all_fields = list(model._meta.local_concrete_fields)
    new_fields = [f for f in all_fields if not f.primary_key]

    def insert(fields, from_item: dict | None = None) -> str:
        """INSERT of `fields`: each a parameter, or (`from_item`) some taken from `item`."""
        columns = ", ".join(_quote(f.column) for f in fields)
        if from_item is None:
            return f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        values = ", ".join(from_item.get(f.attname, "%s") for f in fields)
        return f"INSERT INTO {table} ({columns}) SELECT {values} FROM item"

    from_item = {fk.attname: "item.id", "item_title": "item.title"}
    by_id = f"SELECT id, title FROM {item_table} WHERE id = %s"
    return Statements(
        find=by_id,
        insert=f"{insert(new_fields)} ON CONFLICT DO NOTHING",
        new_fields=new_fields,
        restore=f"{insert(all_fields)} ON CONFLICT DO NOTHING",
        all_fields=all_fields,
        save=(
            f"WITH item AS ({by_id}), added AS ({insert(new_fields, from_item)}"
            " ON CONFLICT DO NOTHING) SELECT title FROM item"
        ),
        save_fields=[f for f in new_fields if f.attname not in from_item],
        # Only when a row went does it purge: a repeated press must keep the Undo it offers.
        # The two purges are separate index scans: one reading both ranges would also read
        # every dead row earlier presses left in the index until a vacuum, and slow down as
        # they pile up.
        unsave=(
            f"WITH item AS ({by_id}), gone AS (DELETE FROM {table} WHERE user_id = %s"
            f" AND {column} = %s RETURNING *),"
            f" superseded AS (DELETE FROM {removals}"
            f" WHERE EXISTS (SELECT FROM gone) AND user_id = %s AND {SUPERSEDED}),"
            f" expired AS (DELETE FROM {removals}"
            f" WHERE EXISTS (SELECT FROM gone) AND user_id = %s AND {EXPIRED}),"
            f" kept AS (INSERT INTO {removals}"
            " (user_id, kind, item_id, data, removed) SELECT user_id, %s, "
            f"{column}, row_to_json(gone)::jsonb, %s FROM gone RETURNING id)"
            " SELECT title, (SELECT id FROM kept) FROM item"
        ),
        delete=f"DELETE FROM {table} WHERE user_id = %s AND {column} = %s RETURNING *",
        purge=f"DELETE FROM {removals} WHERE user_id = %s AND ({SUPERSEDED} OR {EXPIRED})",
        keep=(
            f"INSERT INTO {removals} (user_id, kind, item_id, data, removed)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id"
        ),
    )


def _prepared(row: SavedItem, fields) -> list:
    """The values a new row gets for `fields`, as the ORM would insert them (`created` now)."""
    return [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]


def _insert(kind: Kind, row: SavedItem, *, as_is: bool) -> bool:
    """INSERT `row` unless the person has saved its item already; True when it was written.

    One statement, atomic on its own. `as_is` keeps every value the row holds (its id and
    times too, for Undo); otherwise the database numbers it and `created` is now.
    """
    statements = _statements(kind, connection.vendor)
    if as_is:
        fields = statements.all_fields
        values = [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields]
    else:
        values = _prepared(row, statements.new_fields)
    with connection.cursor() as cursor:
        cursor.execute(statements.restore if as_is else statements.insert, values)
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
            row = kind.saved_model(user=user, item_title=item.title, **{kind.item_field: item})
            _insert(kind, row, as_is=False)
        return item
    if not 0 < pk <= BIGINT_MAX:
        return None
    statements = _statements(kind, connection.vendor)
    row = kind.saved_model(user=user, **{f"{kind.item_field}_id": pk})
    with connection.cursor() as cursor:
        cursor.execute(statements.save, [pk, *_prepared(row, statements.save_fields)])
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
    statements = _statements(kind, connection.vendor)
    now = timezone.now()
    # Raw SQL gets the times as the ORM would write them (SQLite keeps UTC without a zone).
    at, cutoff = (connection.ops.adapt_datetimefield_value(t) for t in (now, now - UNDO_WINDOW))
    if connection.vendor == "postgresql":
        params = [pk, user.pk, pk, user.pk, kind.key, pk, user.pk, cutoff, kind.key, at]
        with connection.cursor() as cursor:
            cursor.execute(statements.unsave, params)
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
            cursor.execute(statements.delete, [user.pk, pk])
            found = cursor.fetchone()
            removal = None
            if found is not None:
                data = {
                    column[0]: value.isoformat() if isinstance(value, date) else value
                    for column, value in zip(cursor.description, found, strict=True)
                }
                cursor.execute(statements.purge, [user.pk, kind.key, pk, cutoff])
                cursor.execute(statements.keep, [user.pk, kind.key, pk, json.dumps(data), at])
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
                written = _insert(kind, row, as_is=True)
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
