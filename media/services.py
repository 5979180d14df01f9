"""Saving and the feed: the code that views, commands and tests call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import F, Model, Q, Value
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_aware, make_aware

from media.kinds import KINDS, Kind

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Ties on `created` are broken by kind, then id, so the order is total and a cursor exact.
KIND_RANK = {key: rank for rank, key in enumerate(KINDS)}
FEED_COLUMNS = ("feed_rank", "feed_id", "feed_created", "feed_item", "feed_title", "feed_year")


def save_item(user, kind: Kind, item: Model) -> None:
    """Save `item` for `user`; saving what is already saved is a no-op, never an error.

    The insert ignores the unique conflict (ON CONFLICT DO NOTHING / INSERT OR IGNORE),
    so concurrent or repeated saves leave exactly one row without raising.
    """
    kind.saved_model.objects.bulk_create(
        [kind.saved_model(user=user, **{kind.item_field: item})], ignore_conflicts=True
    )


def unsave_item(user, kind: Kind, item: Model) -> None:
    """Remove `user`'s save of `item` if there is one; only that user's row can match."""
    kind.saved_model.objects.filter(user=user, **{kind.item_field: item}).delete()


def is_saved(user, kind: Kind, item: Model) -> bool:
    if not user.is_authenticated:
        return False
    return kind.saved_model.objects.filter(user=user, **{kind.item_field: item}).exists()


@dataclass(frozen=True)
class Cursor:
    """A position in the feed: the entry after which a page starts (newest first)."""

    created: datetime
    kind: str
    id: int

    def encode(self) -> str:
        micros = (self.created - EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.kind}.{self.id}"

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Parse a token made by `encode`; ValueError when it is not one."""
        micros, kind, pk = token.split(".")
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        return cls(EPOCH + timedelta(microseconds=int(micros)), kind, int(pk))


@dataclass(frozen=True)
class FeedEntry:
    kind: Kind
    saved_id: int
    created: datetime
    item_id: int
    title: str
    year: int

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created, self.kind.key, self.saved_id)

    def get_absolute_url(self) -> str:
        return reverse("media:item", kwargs={"kind": self.kind, "pk": self.item_id})


@dataclass(frozen=True)
class FeedPage:
    entries: list[FeedEntry]
    newer: Cursor | None  # pass as ?after= to get the page before this one
    older: Cursor | None  # pass as ?before= to get the page after this one


def _older_than(kind: Kind, cursor: Cursor) -> Q:
    """Rows of `kind` that sort after `cursor` in newest-first order."""
    rank, cursor_rank = KIND_RANK[kind.key], KIND_RANK[cursor.kind]
    if rank < cursor_rank:
        return Q(created__lte=cursor.created)
    if rank > cursor_rank:
        return Q(created__lt=cursor.created)
    return Q(created__lt=cursor.created) | Q(created=cursor.created, id__lt=cursor.id)


def _newer_than(kind: Kind, cursor: Cursor) -> Q:
    """Rows of `kind` that sort before `cursor` in newest-first order."""
    rank, cursor_rank = KIND_RANK[kind.key], KIND_RANK[cursor.kind]
    if rank > cursor_rank:
        return Q(created__gte=cursor.created)
    if rank < cursor_rank:
        return Q(created__gt=cursor.created)
    return Q(created__gt=cursor.created) | Q(created=cursor.created, id__gt=cursor.id)


def _branch(user, kind: Kind, limit: int, before: Cursor | None, after: Cursor | None):
    rows = kind.saved_model.objects.filter(user=user)
    if before is not None:
        rows = rows.filter(_older_than(kind, before))
    if after is not None:
        rows = rows.filter(_newer_than(kind, after))
    # Each branch is ordered and cut on its own (an index range scan), so the union
    # never holds more than `limit` rows per kind, whatever the collection's size.
    order = ("created", "id") if after is not None else ("-created", "-id")
    return (
        rows.order_by(*order)
        .annotate(
            feed_rank=Value(KIND_RANK[kind.key]),
            feed_id=F("id"),
            feed_created=F("created"),
            feed_item=F(f"{kind.item_field}_id"),
            feed_title=F(f"{kind.item_field}__title"),
            feed_year=F(f"{kind.item_field}__year"),
        )
        .values_list(*FEED_COLUMNS)[:limit]
        .query.sql_with_params()
    )


def _as_datetime(value: datetime | str) -> datetime:
    # Raw rows skip Django's converters: SQLite gives naive UTC (or text), PostgreSQL aware.
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed if is_aware(parsed) else make_aware(parsed, UTC)


def saved_feed(
    user,
    *,
    per_page: int = 20,
    kinds: list[Kind] | None = None,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> FeedPage:
    """One page of `user`'s saves across kinds, newest first, in one database query.

    The database unions the saved tables (each joined to its items), orders and cuts
    the result; keyset cursors (`before` / `after`) page without counting or skipping.
    """
    kinds = kinds or list(KINDS.values())
    limit = per_page + 1  # one extra row tells whether another page exists
    branches = [_branch(user, kind, limit, before, after) for kind in kinds]
    # Django refuses LIMIT inside a UNION on SQLite, so the statement is put together
    # here from the compiled branches: each one a subquery, ordered and cut again outside.
    direction = "ASC" if after is not None else "DESC"
    columns = ", ".join(FEED_COLUMNS)
    sql = " UNION ALL ".join(
        f"SELECT {columns} FROM ({branch_sql}) AS branch_{i}"
        for i, (branch_sql, _) in enumerate(branches)
    )
    sql += (
        f" ORDER BY feed_created {direction}, feed_rank {direction}, feed_id {direction}"
        f" LIMIT {int(limit)}"
    )
    params = [param for _, branch_params in branches for param in branch_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if after is not None and len(rows) < limit:
        # Paging back reached the newest saves: show the first page, full.
        return saved_feed(user, per_page=per_page, kinds=kinds)

    by_rank = list(KINDS.values())
    entries = [
        FeedEntry(by_rank[rank], saved_id, _as_datetime(created), item_id, title, year)
        for rank, saved_id, created, item_id, title, year in rows[:per_page]
    ]
    more = len(rows) > per_page
    if after is not None:
        entries.reverse()
        newer = entries[0].cursor
        older = entries[-1].cursor
    else:
        newer = entries[0].cursor if before is not None and entries else None
        older = entries[-1].cursor if more else None
    return FeedPage(entries, newer=newer, older=older)
