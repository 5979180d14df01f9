"""Saving and tracking: the writes that views, commands and tests call."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from media.kinds import Kind
from media.models import SavedItem, SavedMovie, Status

BIGINT_MAX = 2**63 - 1


def find_item(kind: Kind, pk: int) -> Model | None:
    """The item `pk` of `kind` with just its id and title, or None: what Save needs.

    One plain SELECT: Save is the busiest write, and the ORM's query building would cost
    it more than the database does.
    """
    if not 0 < pk <= BIGINT_MAX:
        return None  # no such id, and no such number for the database either
    model = kind.item_model
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('title')} FROM {quote(model._meta.db_table)} WHERE {quote('id')} = %s",
            [pk],
        )
        row = cursor.fetchone()
    return None if row is None else model(id=pk, title=row[0])


def save_item(user, kind: Kind, item: Model) -> None:
    """Save `item` for `user`; saving what is already saved is a no-op, never an error.

    One INSERT ... ON CONFLICT DO NOTHING on the unique (user, item) constraint: a single
    statement is atomic without a transaction around it (two round trips fewer than the
    ORM's bulk insert), and concurrent or repeated saves leave exactly one row.
    """
    model = kind.saved_model
    row = model(user=user, **{kind.item_field: item})
    fields = [field for field in model._meta.local_concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(row, add=True), connection) for field in fields]
    quote = connection.ops.quote_name
    unique = (model._meta.get_field("user").column, model._meta.get_field(kind.item_field).column)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        f" ON CONFLICT ({', '.join(quote(column) for column in unique)}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def unsave_item(user, kind: Kind, item: Model) -> None:
    """Remove `user`'s save of `item` if there is one; only that user's row can match.

    One DELETE statement (atomic on its own); nothing refers to a saved row, and the
    status counts follow by trigger.
    """
    model = kind.saved_model
    quote = connection.ops.quote_name
    sql = (
        f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote('user_id')} = %s"
        f" AND {quote(model._meta.get_field(kind.item_field).column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, item.pk])


def get_saved(user, kind: Kind, item: Model) -> SavedItem | None:
    """`user`'s save of `item`, or None (also for anonymous users)."""
    if not user.is_authenticated:
        return None
    saved = kind.saved_model.objects.filter(user=user, **{kind.item_field: item}).first()
    if saved is not None:
        setattr(saved, kind.item_field, item)  # already loaded: spare the query
    return saved


def reconcile_status(saved: SavedItem, changed: Iterable[str]) -> None:
    """Keep status and progress in step; the one place this rule lives.

    Marking it completed moves progress to the end (when the total is known). Otherwise
    a change of progress sets the status: reaching the total completes it, moving back
    from the end reopens it, and starting something planned puts it in progress.
    """
    changed = set(changed)
    if "status" in changed and saved.status == Status.COMPLETED:
        saved.mark_complete()
    elif saved.progress_field in changed:
        total = saved.total
        if total and saved.progress >= total:
            saved.status = Status.COMPLETED
        elif saved.status == Status.COMPLETED:
            saved.status = Status.IN_PROGRESS if saved.progress else Status.PLANNED
        elif saved.status == Status.PLANNED and saved.progress:
            saved.status = Status.IN_PROGRESS
    if isinstance(saved, SavedMovie):
        if not saved.watched:
            saved.watched_on = None
        elif saved.watched_on is None:
            saved.watched_on = timezone.localdate()
