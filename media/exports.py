"""A person's saves as a file to take elsewhere: Shelf JSON, CSV and MyAnimeList XML.

Each writer is a generator of text chunks over one person's saves, read in order of saving
(`created`, then `id`) through `iterator(chunk_size=...)`, so memory stays flat however many
saves there are: a view streams them (`StreamingHttpResponse`), through `buffered()` so the
server writes a few large chunks rather than one per save, and through `gzipped()` when the
file is asked for as .gz.

Shelf JSON and CSV are generic: every kind of the registry, every field its saved model lists
in `tracking_fields`, every external id its catalog model lists in `external_id_fields`, so a
new kind or a new tracking field is exported without a change here. MyAnimeList XML is the one
format that knows kinds by name: MyAnimeList lists only anime and manga (`MAL_KINDS`).
"""

from __future__ import annotations

import csv
import datetime
import heapq
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.db.models import Count
from django.utils import timezone

from media.feed import status_counts
from media.kinds import KINDS, Kind
from media.models import Status

SHELF_FORMAT, SHELF_VERSION = "shelf", 1
# Rows per database fetch, per kind. Memory holds about one fetch of each kind (the merge
# reads them side by side), whatever the number of saves; a small fetch makes that little and
# the same from a few hundred saves up (2,000 would hold 6,000 saves at once, six times what
# exporting 1,000 saves needs), and costs nothing measurable (`bench/exports.py`).
CHUNK_SIZE = 100
BUFFER_CHARS = 64 * 1024  # what `buffered()` gathers before handing a chunk to the server

# Tracking fields that have their own CSV columns around the kind-specific ones.
LEADING_FIELDS = ("status", "score")
TRAILING_FIELDS = ("note",)


def saves_of(user, kind: Kind, **filters):
    """The person's saves of one kind with their items, oldest first, fetched in chunks (a
    server-side cursor on PostgreSQL), never as one list."""
    return (
        kind.saved_model.objects.filter(user=user, **filters)
        .select_related(kind.item_field)
        .order_by("created", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def every_save(user) -> Iterator[tuple[Kind, object]]:
    """(kind, save) for each of the person's saves, oldest first across every kind, so a file
    reads as the shelf's history: each kind's saves come in order from the database and are
    merged as they come (`heapq.merge` holds one save per kind, not the lists)."""

    def of_kind(kind: Kind):
        for save in saves_of(user, kind):
            yield kind, save

    streams = [of_kind(kind) for kind in KINDS.values()]
    return heapq.merge(*streams, key=lambda pair: pair[1].created)  # ties: registry order


def save_count(user) -> int:
    """How many saves the person has, of every kind (from the counts the triggers keep)."""
    return sum(status_counts(user).values())


def plain(value):
    """A field's value as JSON can hold it: dates and times in ISO 8601, the rest as is."""
    if isinstance(value, datetime.date):  # datetime.datetime is a date too
        return value.isoformat()
    return value


def external_ids(item) -> dict:
    """The item's known external ids: {"mal_id": 1}, {"tmdb_id": 550, "imdb_id": "tt…"}."""
    ids = {}
    for field in item.external_id_fields:
        value = getattr(item, field)
        if value is not None and value != "":
            ids[field] = value
    return ids


def tracking(save) -> dict:
    """Every field the person edits on this save, by name (None where unset)."""
    return {field: plain(getattr(save, field)) for field in save.tracking_fields}


# Shelf JSON: everything Shelf knows about each save, and what `media.imports.shelf` reads.


def shelf_entry(kind: Kind, save) -> dict:
    item = save.item
    return {
        "kind": kind.key,
        "title": item.title,
        "year": item.year,
        "ids": external_ids(item),
        "tracking": tracking(save),
        "saved": plain(save.created),
        "updated": plain(save.updated),
    }


def shelf_json(user, now: datetime.datetime | None = None) -> Iterator[str]:
    """`{"format": "shelf", "version": 1, "exported": …, "saves": [entry, …]}`, an entry at a
    time (one line each, so the file diffs and greps well)."""
    now = now or timezone.now()
    head = {"format": SHELF_FORMAT, "version": SHELF_VERSION, "exported": now.isoformat()}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "saves": ['
    separator = "\n"
    for kind, save in every_save(user):
        yield separator + json.dumps(shelf_entry(kind, save), ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


# CSV: one row per save, the union of every kind's columns.


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def csv_columns() -> tuple[list[str], list[str]]:
    """(external id columns, tracking columns) across every kind, in the registry's order."""
    ids = unique(f for kind in KINDS.values() for f in kind.item_model.external_id_fields)
    fields = unique(f for kind in KINDS.values() for f in kind.saved_model.tracking_fields)
    middle = [f for f in fields if f not in (*LEADING_FIELDS, *TRAILING_FIELDS)]
    return ids, [*LEADING_FIELDS, *middle, *TRAILING_FIELDS]


# A cell that starts with one of these is a formula to Excel and LibreOffice ("CSV injection"):
# a title from a provider could run one. A leading apostrophe makes them show it as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return str(value)


class _Line:
    """A file for `csv.writer` whose `write` hands the line back instead of keeping it."""

    def write(self, line: str) -> str:
        return line


def shelf_csv(user) -> Iterator[str]:
    """The CSV, header first. It starts with a byte order mark: without one, Excel opens a
    UTF-8 CSV in the machine's legacy code page and garbles accents and Japanese titles."""
    id_columns, tracking_columns = csv_columns()
    writer = csv.writer(_Line())  # quotes where needed, lines end in CRLF (RFC 4180)
    header = ["kind", "title", "year", *id_columns, *tracking_columns, "saved", "updated"]
    yield "\ufeff" + writer.writerow(header)
    for kind, save in every_save(user):
        item = save.item
        ids = external_ids(item)
        fields = set(save.tracking_fields)
        row = [
            kind.key,
            item.title,
            item.year,
            *(ids.get(column) for column in id_columns),
            *(getattr(save, column) if column in fields else None for column in tracking_columns),
            save.created,
            save.updated,
        ]
        yield writer.writerow([csv_cell(value) for value in row])


# MyAnimeList XML, in the shape of MyAnimeList's own export (see FORMATS.md).


@dataclass(frozen=True)
class MalKind:
    """How MyAnimeList's export names one of its two lists."""

    export_type: int  # <user_export_type>
    statuses: dict[str, str]  # Shelf's status: MyAnimeList's word
    totals: tuple[str, ...]  # <myinfo>'s totals: every save, then one per status above


MAL_KINDS = {
    "anime": MalKind(
        1,
        {
            Status.IN_PROGRESS: "Watching",
            Status.COMPLETED: "Completed",
            Status.ON_HOLD: "On-Hold",
            Status.DROPPED: "Dropped",
            Status.PLANNED: "Plan to Watch",
        },
        ("user_total_anime", "user_total_watching", "user_total_completed",
         "user_total_onhold", "user_total_dropped", "user_total_plantowatch"),
    ),
    "manga": MalKind(
        2,
        {
            Status.IN_PROGRESS: "Reading",
            Status.COMPLETED: "Completed",
            Status.ON_HOLD: "On-Hold",
            Status.DROPPED: "Dropped",
            Status.PLANNED: "Plan to Read",
        },
        ("user_total_manga", "user_total_reading", "user_total_completed",
         "user_total_onhold", "user_total_dropped", "user_total_plantoread"),
    ),
}  # fmt: skip
MAL_ID = "mal_id"
NO_DATE = "0000-00-00"

# What XML 1.0 cannot hold at all, even escaped: control characters other than tab, line
# feed and carriage return, lone surrogates, U+FFFE and U+FFFF. They are left out.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    return escape(NOT_XML.sub("", str(value)))


def cdata(value: str) -> str:
    """Text as CDATA, as MyAnimeList writes titles and comments. A CDATA section ends at the
    first "]]>", so one in the text is split across two sections."""
    text = NOT_XML.sub("", value)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def mal_date(value: datetime.date | None) -> str:
    return value.isoformat() if value else NO_DATE


def without_mal_id(user, kind: Kind) -> dict[str, int]:
    """How many of the person's saves of `kind` have no MyAnimeList id, by status: they cannot
    be in a MyAnimeList file (an entry is its id there)."""
    rows = (
        kind.saved_model.objects.filter(user=user, **{f"{kind.item_field}__{MAL_ID}": None})
        .values_list("status")
        .annotate(saves=Count("id"))
        .order_by()
    )
    return dict(rows)


def mal_totals(user, kind: Kind) -> dict[str, int]:
    """<myinfo>'s totals for the entries the file holds: the counts the triggers keep, less
    the saves left out for want of a MyAnimeList id."""
    counts = status_counts(user, [kind])
    for status, left_out in without_mal_id(user, kind).items():
        counts[status] -= left_out
    spec = MAL_KINDS[kind.key]
    totals = {spec.totals[0]: sum(counts.values())}
    for name, status in zip(spec.totals[1:], spec.statuses, strict=True):
        totals[name] = counts[status]
    return totals


def mal_fields(kind: Kind, save) -> list[tuple[str, str]]:
    """The elements of one entry, in the order MyAnimeList writes them, values as XML.

    Shelf keeps no list of tags, storage, priority or "rewatching now", so those carry
    MyAnimeList's defaults. `started`, `finished` and `rewatches` are read with defaults, so
    this works whether or not the saved model has them."""
    item = save.item
    status = MAL_KINDS[kind.key].statuses[save.status]
    dates = [
        ("my_start_date", mal_date(getattr(save, "started", None))),
        ("my_finish_date", mal_date(getattr(save, "finished", None))),
    ]
    rewatches = str(getattr(save, "rewatches", 0) or 0)
    if kind.key == "anime":
        return [
            ("series_animedb_id", str(item.mal_id)),
            ("series_title", cdata(item.title)),
            ("series_type", "Unknown"),  # Shelf does not keep TV, Movie, OVA…
            ("series_episodes", str(item.episodes or 0)),  # 0: unknown
            ("my_id", "0"),
            ("my_watched_episodes", str(save.episode_progress)),
            *dates,
            ("my_rated", ""),
            ("my_score", str(save.score or 0)),  # 0: no score
            ("my_storage", ""),
            ("my_storage_value", "0.00"),
            ("my_status", status),
            ("my_comments", cdata(save.note)),
            ("my_times_watched", rewatches),
            ("my_rewatch_value", ""),
            ("my_priority", "LOW"),
            ("my_tags", cdata("")),
            ("my_rewatching", "0"),
            ("my_rewatching_ep", "0"),
            ("my_discuss", "1"),
            ("my_sns", "default"),
            ("update_on_import", "1"),  # importing overwrites the entry with this one
        ]
    return [
        ("manga_mangadb_id", str(item.mal_id)),
        ("manga_title", cdata(item.title)),
        ("manga_volumes", str(item.volumes or 0)),
        ("manga_chapters", str(item.chapters or 0)),
        ("my_id", "0"),
        ("my_read_volumes", str(save.volume_progress)),
        ("my_read_chapters", str(save.chapter_progress)),
        *dates,
        ("my_score", str(save.score or 0)),
        ("my_status", status),
        ("my_comments", cdata(save.note)),
        ("my_times_read", rewatches),
        ("my_tags", cdata("")),
        ("my_priority", "LOW"),
        ("my_reread_value", ""),
        ("my_rereading", "NO"),  # manga writes YES/NO where anime writes 1/0
        ("my_discuss", "YES"),
        ("my_sns", "default"),
        ("update_on_import", "1"),
    ]


def mal_xml(user, kind: Kind) -> Iterator[str]:
    """The person's list of `kind` (anime or manga) as MyAnimeList exports it; saves whose
    title has no MyAnimeList id are left out (`without_mal_id` counts them)."""
    spec = MAL_KINDS[kind.key]
    info = [
        ("user_id", "0"),  # a MyAnimeList account's id, which Shelf does not know
        ("user_name", xml_text(user.get_username())),
        ("user_export_type", str(spec.export_type)),
        *((name, str(total)) for name, total in mal_totals(user, kind).items()),
    ]
    yield (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        "<!--\n Created by XML Export feature at MyAnimeList.net\n Version 1.1.0\n-->\n\n"
        "<myanimelist>\n\n\t<myinfo>\n"
        + "".join(f"\t\t<{name}>{value}</{name}>\n" for name, value in info)
        + "\t</myinfo>\n\n"
    )
    has_mal_id = {f"{kind.item_field}__{MAL_ID}__isnull": False}
    for save in saves_of(user, kind, **has_mal_id):
        yield (
            f"\t<{kind.key}>\n"
            + "".join(f"\t\t<{name}>{value}</{name}>\n" for name, value in mal_fields(kind, save))
            + f"\t</{kind.key}>\n\n"
        )
    yield "</myanimelist>\n"


# Streaming helpers.


def buffered(chunks: Iterable[str], size: int = BUFFER_CHARS) -> Iterator[str]:
    """The same text in chunks of about `size` characters."""
    pending, length = [], 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def gzipped(chunks: Iterable[str], level: int = 6) -> Iterator[bytes]:
    """The text encoded as UTF-8 and gzipped as it goes (a gzip header: wbits 16 + 15)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        packed = packer.compress(chunk.encode("utf-8"))
        if packed:
            yield packed
    yield packer.flush()
