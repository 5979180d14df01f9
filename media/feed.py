"""The Saved dashboard's feed: one page of a person's saves across kinds, in one query.

The database takes the first keys of each saved table from that table's index for the
chosen sort, orders and cuts their union to one page, and only then reads those rows with
their items, each as one JSON object, so every kind gives the same columns whatever its
fields. Pages are keyset cursors on (sort value, kind, id): nothing is counted or skipped,
so a deep page costs what the first one does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import connection
from django.db.models import F, Func, JSONField, Q, Sum, Value
from django.db.models.expressions import Combinable, RawSQL
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_aware, make_aware

from media.kinds import KINDS, Kind
from media.models import SCORE_MAX, SavedCount, SavedItem, ScoreOrZero, Status, from_columns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BIGINT_MAX = 2**63 - 1
TITLE_MAX_LENGTH = 200
# Ties on the sort value are broken by kind, then id, so the order is total and a cursor exact.
KIND_RANK = {key: rank for rank, key in enumerate(KINDS)}
BY_RANK = list(KINDS.values())


def _valid_time(value) -> bool:
    return type(value) is int


def _valid_title(value) -> bool:
    # PostgreSQL refuses NUL in text, and neither database can take a lone surrogate.
    if type(value) is not str or len(value) > TITLE_MAX_LENGTH or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _valid_score(value) -> bool:
    return type(value) is int and 0 <= value <= SCORE_MAX


@dataclass(frozen=True)
class Sort:
    """One order of the dashboard: its sort key on each saved table (which an index of that
    table holds), its direction, and what a cursor's value must be for it."""

    label: str
    expression: Callable[[], Combinable]
    descending: bool
    valid: Callable[[object], bool]  # a cursor's value, as JSON gave it
    is_time: bool = False  # the value travels as microseconds since 1970


SORTS: dict[str, Sort] = {
    "saved": Sort("Recently saved", lambda: F("created"), True, _valid_time, is_time=True),
    "updated": Sort("Recently updated", lambda: F("updated"), True, _valid_time, is_time=True),
    "title": Sort("Title", lambda: F("item_title"), False, _valid_title),
    "score": Sort("Score", lambda: ScoreOrZero("score"), True, _valid_score),
}
DEFAULT_SORT = "saved"

# Each kind's part of the page's keys yields these columns in this order.
KEY_COLUMNS = ("feed_sort", "feed_rank", "feed_id")


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
        if type(kind) is not str or kind not in KINDS:
            raise ValueError("not a cursor")
        if type(pk) is not int or not 0 < pk <= BIGINT_MAX or not sort.valid(value):
            raise ValueError("not a cursor")  # beyond what the database could hold or compare
        if sort.is_time:
            try:
                value = EPOCH + timedelta(microseconds=value)
            except OverflowError as error:
                raise ValueError("not a cursor") from error
        return cls(value, kind, pk)


@dataclass(frozen=True)
class FeedEntry:
    kind: Kind
    saved: SavedItem  # with its item loaded
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
    rows = kind.saved_model.objects.filter(user=user).annotate(feed_sort=sort.expression())
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


class JSONArray(Func):
    """Values as one JSON array: the row's columns in a known order, without their names."""

    function = "JSON_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSON_BUILD_ARRAY", **extra_context)


class JSONValue(Func):
    """A JSON column inside `JSONArray` as JSON, not as the text SQLite keeps it in (so an
    item's list, such as a show's seasons, comes back a list on both databases)."""

    function = "JSON"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


def _read(kind: Kind, lookup: str):
    """What the feed's JSON array holds for the column at `lookup` of `kind`'s rows."""
    return JSONValue(F(lookup)) if lookup in _json_lookups(kind) else F(lookup)


@cache
def _json_lookups(kind: Kind) -> frozenset[str]:
    """The lookups of `_columns(kind)` whose columns hold JSON (alternative titles, seasons)."""
    saved, item = kind.saved_model._meta, kind.item_model._meta
    return frozenset(
        [f.attname for f in saved.concrete_fields if isinstance(f, JSONField)]
        + [
            f"{kind.item_field}__{f.attname}"
            for f in item.concrete_fields
            if isinstance(f, JSONField)
        ]
    )


@cache
def _columns(kind: Kind) -> list[tuple[str, str]]:
    """(column, lookup) of what the feed reads of each row of `kind`: the whole saved row, and
    its item's columns but the synopsis (long, and the feed does not show it)."""
    saved, item = kind.saved_model._meta, kind.item_model._meta
    return [(f.column, f.attname) for f in saved.concrete_fields] + [
        (f"item__{f.column}", f"{kind.item_field}__{f.attname}")
        for f in item.concrete_fields
        if f.name != "synopsis"
    ]


def _rows(kind: Kind, sort: Sort):
    """SQL for the rows of `kind` whose keys made the page: each saved row with its item, as
    one JSON array (the same columns for every kind, whatever its fields)."""
    rank = KIND_RANK[kind.key]
    chosen = RawSQL(f"SELECT feed_id FROM feed_page WHERE feed_rank = {rank}", ())
    return (
        kind.saved_model.objects.filter(id__in=chosen)
        .annotate(
            feed_sort=sort.expression(),
            feed_rank=Value(rank),
            feed_id=F("id"),
            feed_row=JSONArray(*(_read(kind, lookup) for _, lookup in _columns(kind))),
        )
        .order_by()
        .values_list(*KEY_COLUMNS, "feed_row")
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
    # only those rows are read with their items. Django refuses LIMIT inside a UNION on
    # SQLite, so the statement is put together here from the compiled parts.
    direction = "DESC" if sort.descending != backwards else "ASC"
    order = f" ORDER BY feed_sort {direction}, feed_rank {direction}, feed_id {direction}"
    keys_sql, keys_params = _union(keys, KEY_COLUMNS)
    rows_sql, rows_params = _union(rows, (*KEY_COLUMNS, "feed_row"))
    sql = f"WITH feed_page AS ({keys_sql}{order} LIMIT {int(limit)}) {rows_sql}{order}"
    with connection.cursor() as cursor:
        cursor.execute(sql, keys_params + rows_params)
        return cursor.fetchall()


def _as_datetime(value: datetime | str) -> datetime:
    # Raw rows skip Django's converters: SQLite gives naive UTC (or text), PostgreSQL aware.
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed if is_aware(parsed) else make_aware(parsed, UTC)


def _entry(row: tuple, user, sort: Sort) -> FeedEntry:
    value, rank, _, values = row
    if isinstance(values, str):
        values = json.loads(values)  # SQLite gives JSON as text, psycopg as a list
    kind = BY_RANK[rank]
    columns = dict(zip((column for column, _ in _columns(kind)), values, strict=True))
    item_columns = {
        k.removeprefix("item__"): v for k, v in columns.items() if k.startswith("item__")
    }
    saved = from_columns(kind.saved_model, columns)
    saved.user = user
    setattr(saved, kind.item_field, from_columns(kind.item_model, item_columns))
    return FeedEntry(kind, saved, _as_datetime(value) if sort.is_time else value)


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
