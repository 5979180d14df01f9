"""The Saved dashboard's feed: one page of a person's saves across kinds, in one query.

The database takes the first keys of each saved table from its index, orders and cuts
their union to one page, and only then joins those rows to their items. Pages are keyset
cursors on (sort value, kind, id): nothing is counted or skipped, so a deep page costs
what the first one does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import F, IntegerField, Q, Sum, Value
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_aware, make_aware

from media.kinds import KINDS, Kind
from media.models import SavedCount, SavedItem, Status

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Ties on the sort value are broken by kind, then id, so the order is total and a cursor exact.
KIND_RANK = {key: rank for rank, key in enumerate(KINDS)}
BY_RANK = list(KINDS.values())


@dataclass(frozen=True)
class Sort:
    label: str
    expression: Callable[[Kind], Combinable]
    descending: bool
    value_type: type = int  # of the sort value in a cursor (a time travels as microseconds)
    is_time: bool = False


SORTS: dict[str, Sort] = {
    "saved": Sort("Recently saved", lambda kind: F("created"), True, is_time=True),
    "updated": Sort("Recently updated", lambda kind: F("updated"), True, is_time=True),
    "title": Sort("Title", lambda kind: F(f"{kind.item_field}__title"), False, str),
    "score": Sort(
        "Score", lambda kind: Coalesce("score", Value(0), output_field=IntegerField()), True
    ),
}
DEFAULT_SORT = "saved"

# Each kind's part of the page's keys, then of its rows, yields these columns in this order.
KEY_COLUMNS = ("feed_sort", "feed_rank", "feed_id")
COLUMNS = (
    "feed_sort", "feed_rank", "feed_id", "feed_created", "feed_updated", "feed_item",
    "feed_title", "feed_year", "feed_status", "feed_score", "feed_note",
    "feed_progress", "feed_total", "feed_progress2", "feed_total2", "feed_date",
)  # fmt: skip


@dataclass(frozen=True)
class Cursor:
    """A position in the feed: the (sort value, kind, id) of the entry a page starts after."""

    value: datetime | str | int
    kind: str
    id: int

    def encode(self) -> str:
        value = self.value
        if isinstance(value, datetime):
            value = (value - EPOCH) // timedelta(microseconds=1)
        raw = json.dumps([value, self.kind, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: Sort) -> Cursor:
        """Parse a token made by `encode` for `sort`; ValueError when it is not one."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            value, kind, pk = json.loads(raw)
        except (binascii.Error, ValueError, TypeError) as error:
            raise ValueError("not a cursor") from error
        if type(kind) is not str or kind not in KINDS or type(pk) is not int:
            raise ValueError("not a cursor")
        if sort.is_time:
            if type(value) is not int:
                raise ValueError("not a cursor")
            try:
                value = EPOCH + timedelta(microseconds=value)
            except OverflowError as error:
                raise ValueError("not a cursor") from error
        elif type(value) is not sort.value_type or (type(value) is str and "\x00" in value):
            raise ValueError("not a cursor")  # PostgreSQL refuses NUL in text
        return cls(value, kind, pk)


@dataclass(frozen=True)
class FeedEntry:
    kind: Kind
    saved: SavedItem  # with its item attached, built from the row: no further query
    sort_value: datetime | str | int

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.sort_value, self.kind.key, self.saved.pk)


@dataclass(frozen=True)
class FeedPage:
    entries: list[FeedEntry]
    previous: Cursor | None  # pass as ?after= for the page before this one
    next: Cursor | None  # pass as ?before= for the page after this one


def _beyond(kind: Kind, cursor: Cursor, less: bool) -> Q:
    """Rows of `kind` whose (sort value, kind rank, id) is less (or greater) than the cursor's."""
    rank, cursor_rank = KIND_RANK[kind.key], KIND_RANK[cursor.kind]
    strict, loose = ("lt", "lte") if less else ("gt", "gte")
    if rank == cursor_rank:
        # The first term alone bounds the index range (an OR cannot); the rest is exact.
        return Q(**{f"feed_sort__{loose}": cursor.value}) & (
            Q(**{f"feed_sort__{strict}": cursor.value})
            | Q(feed_sort=cursor.value, **{f"id__{strict}": cursor.id})
        )
    rank_is_beyond = rank < cursor_rank if less else rank > cursor_rank
    return Q(**{f"feed_sort__{loose if rank_is_beyond else strict}": cursor.value})


def _keys(user, kind: Kind, sort: Sort, status, cursor, backwards: bool, limit: int):
    """SQL for the first `limit` (sort value, kind rank, id) of `kind` past the cursor."""
    descending = sort.descending != backwards
    rows = kind.saved_model.objects.filter(user=user).annotate(feed_sort=sort.expression(kind))
    if status:
        rows = rows.filter(status=status)
    if cursor is not None:
        rows = rows.filter(_beyond(kind, cursor, less=descending))
    # Each kind is ordered and cut on its own (by its index), so the union never holds
    # more than `limit` keys per kind, whatever the size of the collection.
    order = ("-feed_sort", "-id") if descending else ("feed_sort", "id")
    return (
        rows.order_by(*order)
        .annotate(feed_rank=Value(KIND_RANK[kind.key]), feed_id=F("id"))
        .values_list(*KEY_COLUMNS)[:limit]
        .query.sql_with_params()
    )


def _rows(kind: Kind, sort: Sort):
    """SQL for every feed column of the rows of `kind` whose keys made the page."""
    chosen = RawSQL(f"SELECT feed_id FROM feed_page WHERE feed_rank = {KIND_RANK[kind.key]}", ())
    return (
        kind.saved_model.objects.filter(id__in=chosen)
        .annotate(
            feed_sort=sort.expression(kind),
            feed_rank=Value(KIND_RANK[kind.key]),
            feed_id=F("id"),
            feed_created=F("created"),
            feed_updated=F("updated"),
            feed_item=F(f"{kind.item_field}_id"),
            feed_title=F(f"{kind.item_field}__title"),
            feed_year=F(f"{kind.item_field}__year"),
            feed_status=F("status"),
            feed_score=F("score"),
            feed_note=F("note"),
            **{f"feed_{name}": value for name, value in kind.saved_model.feed_columns().items()},
        )
        .order_by()
        .values_list(*COLUMNS)
        .query.sql_with_params()
    )


def _union(parts, columns) -> tuple[str, list]:
    sql = " UNION ALL ".join(
        f"SELECT {', '.join(columns)} FROM ({part_sql}) AS part_{i}"
        for i, (part_sql, _) in enumerate(parts)
    )
    return sql, [param for _, part_params in parts for param in part_params]


def _page_rows(keys, rows, sort: Sort, backwards: bool, limit: int) -> list[tuple]:
    # One statement: the page's keys are chosen from each kind's index (feed_page), then
    # only those rows are joined to their items. Django refuses LIMIT inside a UNION on
    # SQLite, so the statement is put together here from the compiled parts.
    direction = "DESC" if sort.descending != backwards else "ASC"
    order = f" ORDER BY feed_sort {direction}, feed_rank {direction}, feed_id {direction}"
    keys_sql, keys_params = _union(keys, KEY_COLUMNS)
    rows_sql, rows_params = _union(rows, COLUMNS)
    sql = f"WITH feed_page AS ({keys_sql}{order} LIMIT {int(limit)}) {rows_sql}{order}"
    with connection.cursor() as cursor:
        cursor.execute(sql, keys_params + rows_params)
        return cursor.fetchall()


def _as_datetime(value: datetime | str) -> datetime:
    # Raw rows skip Django's converters: SQLite gives naive UTC (or text), PostgreSQL aware.
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed if is_aware(parsed) else make_aware(parsed, UTC)


def _as_date(value: date | str | None) -> date | None:
    return parse_date(value) if isinstance(value, str) else value


def _entry(row: tuple, user, sort: Sort) -> FeedEntry:
    values = dict(zip(COLUMNS, row, strict=True))
    kind = BY_RANK[values["feed_rank"]]
    item = kind.item_model(
        id=values["feed_item"], title=values["feed_title"], year=values["feed_year"]
    )
    saved = kind.saved_model(
        id=values["feed_id"],
        user=user,
        created=_as_datetime(values["feed_created"]),
        updated=_as_datetime(values["feed_updated"]),
        status=values["feed_status"],
        score=values["feed_score"],
        note=values["feed_note"],
        **{kind.item_field: item},
    )
    saved.load_feed_columns(
        progress=values["feed_progress"],
        total=values["feed_total"],
        progress2=values["feed_progress2"],
        total2=values["feed_total2"],
        date=_as_date(values["feed_date"]),
    )
    sort_value = values["feed_sort"]
    if sort.is_time:
        sort_value = _as_datetime(sort_value)
    return FeedEntry(kind, saved, sort_value)


def saved_feed(
    user,
    *,
    per_page: int = 20,
    kinds: list[Kind] | None = None,
    status: str = "",
    sort: str = DEFAULT_SORT,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> FeedPage:
    """One page of `user`'s saves across kinds, in one database query.

    `before` pages forward (the entries after that cursor in the sort order), `after`
    backward; a backward page that reaches the start shows the first page, full.
    """
    kinds = kinds or list(KINDS.values())
    spec = SORTS[sort]
    backwards = after is not None
    cursor = after if backwards else before
    limit = per_page + 1  # one extra row tells whether another page exists
    keys = [_keys(user, kind, spec, status, cursor, backwards, limit) for kind in kinds]
    rows = _page_rows(keys, [_rows(kind, spec) for kind in kinds], spec, backwards, limit)
    if (backwards and len(rows) < limit) or (cursor is not None and not rows):
        # Paging back reached the start, or a stale link points past the end (its last
        # entries were removed): show the first page, full.
        return saved_feed(user, per_page=per_page, kinds=kinds, status=status, sort=sort)

    entries = [_entry(row, user, spec) for row in rows[:per_page]]
    more = len(rows) > per_page
    if backwards:
        entries.reverse()
        return FeedPage(entries, previous=entries[0].cursor, next=entries[-1].cursor)
    return FeedPage(
        entries,
        previous=entries[0].cursor if before is not None and entries else None,
        next=entries[-1].cursor if more else None,
    )


def status_counts(user, kinds: list[Kind] | None = None) -> dict[str, int]:
    """How many of `user`'s saves have each status, across `kinds`, in one indexed query.

    The counts are kept by triggers on the saved tables (`SavedCount`), so this reads at
    most one row per kind and status, however many saves there are.
    """
    kinds = kinds or list(KINDS.values())
    rows = (
        SavedCount.objects.filter(user=user, kind__in=[kind.key for kind in kinds])
        .values_list("status")
        .annotate(saves=Sum("saves"))
        .order_by()
    )
    counts = dict.fromkeys(Status.values, 0)
    for status, saves in rows:
        counts[status] += saves
    return counts
