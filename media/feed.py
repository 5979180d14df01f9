"""The Saved dashboard's feed: one page of a person's saves across kinds.

The database takes the first keys of each saved table from that table's index for the
chosen sort, and orders and cuts their union to one page (one statement); then each kind's
rows on the page are read with their items (one query per kind). Pages are keyset cursors
on (sort value, kind, id): nothing is counted or skipped, so a deep page costs what the
first one does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import F, Q, Sum, Value
from django.db.models.expressions import Combinable
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_aware, make_aware

from media.kinds import KINDS, Kind
from media.models import SCORE_MAX, SavedCount, SavedItem, ScoreOrZero, Status

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


def _page_keys(keys, sort: Sort, backwards: bool, limit: int) -> list[tuple]:
    # The page's keys, chosen from each kind's index in one statement. Django refuses LIMIT
    # inside a UNION on SQLite, so the statement is put together here from compiled parts.
    direction = "DESC" if sort.descending != backwards else "ASC"
    order = f"ORDER BY feed_sort {direction}, feed_rank {direction}, feed_id {direction}"
    sql = " UNION ALL ".join(
        f"SELECT {', '.join(KEY_COLUMNS)} FROM ({part_sql}) AS part_{i}"
        for i, (part_sql, _) in enumerate(keys)
    )
    params = [param for _, part_params in keys for param in part_params]
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} {order} LIMIT {int(limit)}", params)
        return cursor.fetchall()


def _as_datetime(value: datetime | str) -> datetime:
    # Raw rows skip Django's converters: SQLite gives naive UTC (or text), PostgreSQL aware.
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    return parsed if is_aware(parsed) else make_aware(parsed, UTC)


def _entries(keys: list[tuple], user, sort: Sort) -> list[FeedEntry]:
    """The saves the keys name, with their items, in the keys' order: one query per kind."""
    wanted: dict[int, list[int]] = {}
    for _, rank, pk in keys:
        wanted.setdefault(rank, []).append(pk)
    found: dict[tuple[int, int], SavedItem] = {}
    for rank, ids in wanted.items():
        kind = BY_RANK[rank]
        rows = kind.saved_model.objects.filter(id__in=ids).select_related(kind.item_field)
        for saved in rows.defer(f"{kind.item_field}__synopsis"):
            saved.user = user
            found[rank, saved.pk] = saved
    return [
        FeedEntry(BY_RANK[rank], found[rank, pk], _as_datetime(value) if sort.is_time else value)
        for value, rank, pk in keys
        if (rank, pk) in found  # removed between the two reads: left out, not an error
    ]


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
    """One page of `user`'s saves across kinds: one query for the page's keys, then one per
    kind on the page for its rows.

    `before` pages forward (the entries after that cursor in the sort order), `after`
    backward; a backward page that reaches the start shows the first page, full.
    """
    kinds = kinds or list(KINDS.values())
    spec = SORTS[sort]
    backwards = after is not None
    cursor = after if backwards else before
    limit = per_page + 1  # one extra row tells whether another page exists
    parts = [_keys(user, kind, spec, status, cursor, backwards, limit) for kind in kinds]
    keys = _page_keys(parts, spec, backwards, limit)
    if (backwards and len(keys) < limit) or (cursor is not None and not keys):
        # Paging back reached the start, or a stale link points past the end (its last
        # entries were removed): show the first page, full.
        return saved_feed(user, per_page=per_page, kinds=kinds, status=status, sort=sort)

    entries = _entries(keys[:per_page], user, spec)
    more = len(keys) > per_page
    if backwards and not entries:
        return saved_feed(user, per_page=per_page, kinds=kinds, status=status, sort=sort)
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
