"""Whole catalogs from open data files: read a downloaded file, add and refresh its titles.

A source (`SOURCES`) says how to read one publisher's file and turns each entry into a `Row`:
the provider's id and the catalog fields it knows. `load` streams the entries (memory stays
flat whatever the file's size), validates each as it goes and writes them in batches inside
one transaction, so a bad file is refused whole with the entry named and nothing written.

Loading is idempotent on the provider's id: each batch reads the rows it already has in one
query, adds what is new, updates only the rows whose facts really changed (and sets
`refreshed` on those alone) and leaves the rest untouched. As in `media.catalog`, what the
file does not know never erases what the catalog knows (no synopsis here, an unknown total),
a local entry with the same title and year takes the provider's id instead of gaining a
twin, and a total is never lowered below progress someone has tracked: it is kept, and
logged (the database would refuse the row, `media.triggers`).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import ijson
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils import timezone

from media.kinds import KINDS, Kind
from media.models import ReleaseStatus

logger = logging.getLogger("shelf.catalog")

BATCH = 1000  # entries per look-up and write
SNIFF = 64 * 1024  # bytes read to tell JSON from JSON Lines
MAX_ALT_TITLES = 25
TITLE_MAX = 200
URL_MAX = 500
SMALLINT_MAX = 32767  # the totals' column (PositiveSmallIntegerField on PostgreSQL)
YEARS = range(1870, 2101)
MAX_ID = 2**31 - 1  # PositiveIntegerField


class BadFile(Exception):
    """The file cannot be loaded: what is wrong, and where."""


class Problem(ValueError):
    """What is wrong with one entry (the loader adds which entry)."""


@dataclass(frozen=True)
class Row:
    """One entry as the catalog keeps it: the provider's id (None: it has none) and the
    catalog fields the entry knows (None, "" or [] where it knows nothing)."""

    provider_id: int | None
    fields: dict


@dataclass
class Counts:
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # no provider id
    repeated: int = 0  # a provider id an earlier entry of the file already had
    kept_totals: int = 0  # totals not lowered below tracked progress

    def summary(self, plural: str, id_name: str) -> str:
        text = (
            f"{plural}: {self.read:,} read, {self.added:,} added, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.skipped:,} skipped (no {id_name} id)"
        )
        if self.repeated:
            text += f", {self.repeated:,} skipped ({id_name} id repeated)"
        if self.kept_totals:
            text += f"; {self.kept_totals:,} totals kept above tracked progress (see the log)"
        return text


# Reading a file: gzipped or not, one JSON document or JSON Lines.


def _open(path: Path):
    """(a binary stream of the file's content, the file itself) — gunzipped when it is."""
    raw = open(path, "rb")  # noqa: SIM115 (the reader closes it)
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw), raw
    raw.seek(0)
    return raw, raw


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "…"
        return f"the text {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return str(value)


def _format(prefix: bytes) -> str:
    """ "json" or "jsonl", from the file's first bytes. A JSON Lines file starts with a small
    object on its own line (the header, or an entry); a JSON document either spreads its
    object over many lines or is one line (the minified file) with its `data` inside."""
    text = prefix.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise BadFile("the file is empty")
    if not text.startswith(b"{"):
        raise BadFile(
            "the file is neither a JSON object with a `data` list nor JSON Lines "
            f"(it starts with {text[:20]!r})"
        )
    newline = text.find(b"\n")
    if newline == -1:
        return "json"
    try:
        first = json.loads(text[:newline])
    except ValueError:
        return "json"
    return "jsonl" if isinstance(first, dict) and "data" not in first else "json"


class Reader:
    """The entries of a file, numbered from 1, and how far through the file the reading is."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.size = max(self.path.stat().st_size, 1)
        self._raw = None

    @property
    def fraction(self) -> float:
        """The share of the file's bytes read so far (of the compressed file, when it is)."""
        try:
            return min(self._raw.tell() / self.size, 1.0) if self._raw else 0.0
        except (OSError, ValueError):
            return 1.0

    def __iter__(self) -> Iterator[tuple[int, object]]:
        try:
            stream, raw = _open(self.path)
            with raw, stream:
                format = _format(stream.read(SNIFF))
            stream, self._raw = _open(self.path)
            with self._raw, stream:
                if format == "jsonl":
                    yield from self._lines(stream)
                else:
                    yield from self._document(stream)
        except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
            raise BadFile(f"cannot read the file: {error}") from error

    def _document(self, stream) -> Iterator[tuple[int, object]]:
        position = 0
        try:
            for entry in ijson.items(stream, "data.item"):
                position += 1
                yield position, entry
        except (ijson.JSONError, UnicodeDecodeError) as error:
            where = f"after entry {position:,}" if position else "before its first entry"
            raise BadFile(f"the file is not valid JSON {where}: {error}") from error
        if position == 0:
            self._check_shape()

    def _check_shape(self) -> None:
        """Why a JSON document gave no entry: no top-level object, no `data`, or a `data` that
        is not a list (an empty list is fine). Read only when there was no entry."""
        stream, raw = _open(self.path)
        with raw, stream:
            events = ijson.parse(stream)
            prefix, event, _ = next(events, ("", None, None))
            if event != "start_map":
                raise BadFile("the file is not a JSON object with a `data` list")
            for prefix, event, value in events:
                if prefix == "" and event == "map_key" and value == "data":
                    _, event, value = next(events)
                    if event != "start_array":
                        found = {"start_map": "an object"}.get(event, _describe(value))
                        raise BadFile(f"`data` should be a list of entries, not {found}")
                    return
            raise BadFile("the file has no `data` list of entries")

    def _lines(self, stream) -> Iterator[tuple[int, object]]:
        position = 0
        text = io.TextIOWrapper(stream, encoding="utf-8-sig")
        try:
            for number, line in enumerate(text, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as error:
                    raise BadFile(
                        f"line {number:,} (entry {position + 1:,}) is not valid JSON: {error}"
                    ) from error
                if number == 1 and isinstance(value, dict) and "sources" not in value:
                    continue  # the header: $schema, license, repository, scoreRange, lastUpdate
                position += 1
                yield position, value
        except UnicodeDecodeError as error:
            raise BadFile(f"the file is not UTF-8 text after entry {position:,}") from error
        finally:
            text.detach()


# Checking an entry's values.


def text(entry: dict, key: str, *, required: bool = False) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        missing = key not in entry
        raise Problem(
            f"`{key}` is missing" if missing else f"`{key}` should be text, not {_describe(value)}"
        )
    return value.strip()


def whole_number(value, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise Problem(f"`{where}` should be a number, not {_describe(value)}")
    if isinstance(value, float) and not math.isfinite(value) or value != int(value) or value < 0:
        raise Problem(f"`{where}` should be a whole number of 0 or more, not {value}")
    return int(value)


def texts(entry: dict, key: str, *, required: bool = False) -> list[str]:
    value = entry.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        missing = key not in entry
        raise Problem(
            f"`{key}` is missing"
            if missing
            else f"`{key}` should be a list, not {_describe(value)}"
        )
    for item in value:
        if not isinstance(item, str):
            raise Problem(f"`{key}` should hold text only, not {_describe(item)}")
    return value


def alt_titles(title: str, names: list[str]) -> list[str]:
    """The other names, once each (whatever their case), without the title, in the file's
    order. Beyond `MAX_ALT_TITLES` the shortest are kept: the file sorts names by code point,
    so a plain cut would drop the Japanese, Chinese and Korean names, short and the most
    searched, for long translations."""
    seen, kept = {title.casefold()}, []
    for name in names:
        name = name.strip()[:TITLE_MAX]
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    if len(kept) > MAX_ALT_TITLES:
        shortest = sorted(range(len(kept)), key=lambda n: (len(kept[n]), n))[:MAX_ALT_TITLES]
        kept = [kept[n] for n in sorted(shortest)]
    return kept


def web_url(value: str) -> str:
    return value if value.startswith(("https://", "http://")) and len(value) <= URL_MAX else ""


# The sources.


class AnimeOfflineDatabase:
    """manami-project's anime-offline-database (ODbL 1.0 for the database, DbCL 1.0 for its
    contents): `anime-offline-database-minified.json` or `anime-offline-database.jsonl`."""

    name = "anime-offline-database"
    kind_key = "anime"
    id_name = "MyAnimeList"

    MAL_URL = re.compile(r"^https?://(?:www\.)?myanimelist\.net/anime/(\d+)/?$")
    STATUSES = {
        "FINISHED": ReleaseStatus.FINISHED.value,
        "ONGOING": ReleaseStatus.RELEASING.value,
        "UPCOMING": ReleaseStatus.UPCOMING.value,
    }  # UNKNOWN, or a word this code does not know yet: ""
    NO_PICTURE = "/manami-project/anime-offline-database/"  # …/master/pics/no_pic.png

    def parse(self, entry) -> Row:
        if not isinstance(entry, dict):
            raise Problem(f"expected an object, found {_describe(entry)}")
        provider_id = None
        for url in texts(entry, "sources", required=True):
            match = self.MAL_URL.match(url.strip())
            if match and 0 < int(match[1]) <= MAX_ID:
                provider_id = int(match[1])
                break
        title = text(entry, "title", required=True)
        if not title:
            raise Problem("`title` is empty")
        title = title[:TITLE_MAX]
        episodes = whole_number(entry.get("episodes"), "episodes")
        season = entry.get("animeSeason")
        if season is not None and not isinstance(season, dict):
            raise Problem(f"`animeSeason` should be an object, not {_describe(season)}")
        year = whole_number((season or {}).get("year"), "animeSeason.year")
        status = text(entry, "status")
        picture = web_url(text(entry, "picture"))
        if self.NO_PICTURE in picture and picture.endswith("/pics/no_pic.png"):
            picture = ""
        return Row(
            provider_id,
            {
                "title": title,
                "alt_titles": alt_titles(title, texts(entry, "synonyms")),
                "year": year if year in YEARS else None,
                "episodes": episodes if episodes and episodes <= SMALLINT_MAX else None,
                "release_status": self.STATUSES.get(status, ""),
                "poster_url": picture,
            },
        )


SOURCES = {source.name: source for source in (AnimeOfflineDatabase(),)}


# Loading.


@dataclass
class _Seen:
    """Which provider ids the file has given so far: a bit per id, so memory follows the
    largest id (MyAnimeList's are below 100,000: a few KiB), not the file's length."""

    bits: bytearray = field(default_factory=bytearray)

    def add(self, number: int) -> bool:
        """Note `number`; False when it was already there."""
        byte, bit = divmod(number, 8)
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits) + 4096))
        if self.bits[byte] >> bit & 1:
            return False
        self.bits[byte] |= 1 << bit
        return True


def load(
    source,
    path: Path,
    *,
    batch_size: int = BATCH,
    progress: Callable[[int, float], None] | None = None,
) -> Counts:
    """Load every entry of the file at `path` from `source` into its kind's catalog, in one
    transaction; raises `BadFile` (and writes nothing) when the file or an entry is bad."""
    kind = KINDS[source.kind_key]
    counts, seen, batch = Counts(), _Seen(), []
    now = timezone.now()
    reader = Reader(path)
    with transaction.atomic():
        for position, entry in reader:
            counts.read += 1
            try:
                row = source.parse(entry)
            except Problem as problem:
                raise BadFile(f"entry {position:,}: {problem}") from None
            if row.provider_id is None:
                counts.skipped += 1
            elif not seen.add(row.provider_id):
                counts.repeated += 1
                logger.warning(
                    "Skipped entry %s (%s): %s id %s already came with an earlier entry",
                    position, row.fields["title"], source.id_name, row.provider_id,
                )  # fmt: skip
            else:
                batch.append(row)
                if len(batch) >= batch_size:
                    write_batch(kind, batch, now, counts)
                    batch = []
            if progress and counts.read % BATCH == 0:
                progress(counts.read, reader.fraction)
        if batch:
            write_batch(kind, batch, now, counts)
    if progress:
        progress(counts.read, 1.0)
    return counts


def _namesakes(kind: Kind, rows: list[Row]) -> dict[tuple[str, int], object]:
    """Titles of the catalog's own (no provider id) that share a title (whatever its case) and
    a year with one of `rows`: {(lower-case title, year): item}, the oldest row of each."""
    rows = [row for row in rows if row.fields["year"] is not None]
    if not rows:
        return {}
    model = kind.item_model
    found = {}
    candidates = (
        model.objects.annotate(lower_title=Lower("title"))
        .filter(
            **{f"{model.provider_id_field}__isnull": True},
            year__in={row.fields["year"] for row in rows},
            lower_title__in={row.fields["title"].lower() for row in rows},
        )
        .order_by("-id")
    )
    for item in candidates:
        found[(item.title.lower(), item.year)] = item  # the oldest wins: it comes last
    return found


def write_batch(kind: Kind, rows: list[Row], now, counts: Counts) -> None:
    """Add, update or leave each row of one batch: one look-up by id, one for namesakes of
    the new ones, one for tracked progress where a total drops, then the bulk writes."""
    model = kind.item_model
    id_field = model.provider_id_field
    existing = {
        getattr(item, id_field): item
        for item in model.objects.filter(**{f"{id_field}__in": [row.provider_id for row in rows]})
    }
    namesakes = _namesakes(kind, [row for row in rows if row.provider_id not in existing])
    new, pending = [], []
    for row in rows:
        item = existing.get(row.provider_id)
        changes = {}
        if item is None:
            key = (row.fields["title"].lower(), row.fields["year"])
            item = namesakes.pop(key, None)
            if item is None:
                new.append(model(**row.fields, **{id_field: row.provider_id}, refreshed=now))
                continue
            changes[id_field] = row.provider_id
            logger.info("%s %s (pk %s) takes its %s id", kind.label, item, item.pk, id_field)
        for name, value in row.fields.items():
            if value not in (None, "", []) and getattr(item, name) != value:
                changes[name] = value
        pending.append((item, changes))
    _keep_tracked_totals(kind, pending, counts)
    changed, fields = [], set()
    for item, changes in pending:
        if not changes:
            counts.unchanged += 1
            continue
        for name, value in changes.items():
            setattr(item, name, value)
        item.refreshed = now
        changed.append(item)
        fields.update(changes)
    if changed:
        if fields & {"title", "alt_titles"}:
            fields.add("search_text")
            for item in changed:
                item.fill_search_text()
        model.objects.bulk_update(changed, [*sorted(fields), "refreshed"])
        counts.updated += len(changed)
    if new:
        for item in new:
            item.fill_search_text()
        model.objects.bulk_create(new)
        counts.added += len(new)


def _keep_tracked_totals(kind: Kind, pending: list, counts: Counts) -> None:
    """Drop from `pending` each total that would fall below progress someone has tracked
    (one query, for the rows whose total drops or becomes known only), and log it."""
    counters = kind.saved_model.counters
    dropping = {
        item.pk
        for item, changes in pending
        for counter in counters
        if counter.total in changes
        and (
            getattr(item, counter.total) is None
            or changes[counter.total] < getattr(item, counter.total)
        )
    }
    if not dropping:
        return
    tracked = {
        found[kind.item_field]: found
        for found in kind.saved_model.objects.filter(**{f"{kind.item_field}__in": dropping})
        .values(kind.item_field)
        .annotate(**{counter.total: Max(counter.field) for counter in counters})
    }
    for item, changes in pending:
        most = tracked.get(item.pk)
        if most is None:
            continue
        for counter in counters:
            total = changes.get(counter.total)
            if (
                total is not None
                and most[counter.total] is not None
                and total < most[counter.total]
            ):
                logger.warning(
                    "Kept %s of %s %s (pk %s) at %s: the file says %s, below the %s tracked",
                    counter.total, kind.key, item.title, item.pk, getattr(item, counter.total),
                    total, most[counter.total],
                )  # fmt: skip
                del changes[counter.total]
                counts.kept_totals += 1
