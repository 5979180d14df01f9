"""Turn an uploaded list (MyAnimeList XML, Letterboxd CSV, IMDb CSV, Shelf JSON) into
normalised rows.

Nothing here touches the database: `detect` recognises a file by its content (never its name,
except to tell Letterboxd's watched.csv from its watchlist.csv, whose columns are the same), and
`parse` gives the file's rows as `Row`s for the matching and preview steps. A file that is not
one of the formats, or is corrupted, hostile or full of junk, raises `FormatError` with a message
meant for the person who uploaded it.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

STATUSES = ("planned", "in_progress", "completed", "on_hold", "dropped")

MAX_DECOMPRESSED = 50 * 1024 * 1024  # a gzip that inflates past this is refused (a gzip bomb)
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
ZIP_EMPTY_MAGIC = b"PK\x05\x06"  # a ZIP with no members starts with its end record


@dataclass(frozen=True)
class Row:
    """One entry of an uploaded list, in Shelf's words."""

    kind: str  # a key of the kinds registry (`media.kinds`): "movie", "anime", "show"…
    title: str
    year: int | None
    ids: dict  # {"mal_id": 1}, {"imdb_id": "tt0137523"}, or {} (Letterboxd: title and year)
    status: str | None  # one of STATUSES, or None when the file does not say
    # By the saved model's field names: {"episode_progress": 12}, {"watched": True},
    # {"season_progress": 2, "episode_progress": 5}; the saved model reads it (`file_progress`).
    progress: dict
    score: int | None  # 1-10
    note: str
    started: datetime.date | None
    finished: datetime.date | None
    watched_on: datetime.date | None
    rewatches: int
    line: int  # where the entry starts in the file, for messages
    skip_reason: str = ""  # why the row is not imported ("a TV episode", "a duplicate of line 3")
    # When the person added it, as the file says (a save's `created`): a date or a datetime.
    added: datetime.date | datetime.datetime | None = None


class FormatError(ValueError):
    """The upload cannot be read; the message is for the person who uploaded it."""


@dataclass(frozen=True)
class Format:
    """A recognised kind of file, ready to give its rows."""

    name: str  # "mal_anime", "letterboxd_diary", "imdb_ratings", ...
    label: str  # "MyAnimeList anime list", for the page
    read: Callable[[], list[Row]] = field(repr=False, compare=False)

    def rows(self) -> list[Row]:
        return mark_duplicates(self.read())


def detect(data: bytes, filename: str = "") -> Format:
    """Recognise the format of `data` from its content; raise FormatError if it is none."""
    from media.imports import imdb, letterboxd, mal, shelf

    if not data.strip():
        raise FormatError("This is not a file Shelf can import: it is empty.")
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data)
        if data.startswith(GZIP_MAGIC):
            raise FormatError("This is not a file Shelf can import: a gzip inside a gzip.")
        if data.startswith(ZIP_MAGIC):
            raise FormatError("This is not a file Shelf can import: a ZIP inside a gzip.")
        if not data.strip():
            raise FormatError("This is not a file Shelf can import: the gzip holds nothing.")
    if data.startswith((ZIP_MAGIC, ZIP_EMPTY_MAGIC)):
        return letterboxd.detect_zip(data)  # the only ZIP Shelf reads: Letterboxd's export
    if _looks_like_xml(data):
        return mal.detect(data)
    if data.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"{"):  # JSON: Shelf's own export
        return shelf.detect(data)
    text = decode_text(data)
    header = csv_header(text)
    found = letterboxd.detect(header, text, filename) or imdb.detect(header, text)
    if found is None:
        raise FormatError(
            "This is not a file Shelf can import: it is neither a MyAnimeList XML export nor a "
            "Letterboxd or IMDb CSV export (its first line has none of their columns)."
        )
    return found


def parse(data: bytes, filename: str = "") -> list[Row]:
    """The rows of an uploaded file, whatever its format (FormatError if it has none)."""
    return detect(data, filename).rows()


def mark_duplicates(rows: list[Row]) -> list[Row]:
    """Mark as skipped every row that repeats an earlier one of the same title (by id, else by
    title and year): the same MyAnimeList id twice, or the same IMDb id, is one title. The first
    row is kept. (Letterboxd's rows are merged per film before they get here: a film logged on
    several days is one row with its rewatches.)"""
    first: dict = {}
    marked = []
    for row in rows:
        if row.skip_reason:
            marked.append(row)
            continue
        who = tuple(sorted(row.ids.items())) or (row.title.casefold(), row.year)
        key = (row.kind, who)
        if key in first:
            row = replace(row, skip_reason=f"a duplicate of line {first[key]}")
        else:
            first[key] = row.line
        marked.append(row)
    return marked


# Helpers for the format modules.


def gunzip(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Inflate a gzip file, refusing one that is corrupted or inflates past `limit` bytes."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
            inflated = unpacked.read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise FormatError(f"This gzip file is corrupted and cannot be opened ({error}).") from None
    if len(inflated) > limit:
        raise FormatError(
            f"This gzip file unpacks to more than {limit // (1024 * 1024)} MB, more than any "
            "list; Shelf does not open it."
        )
    return inflated


def decode_text(data: bytes) -> str:
    """Text from a CSV upload: UTF-8 (with or without a BOM), UTF-16 with a BOM, or Windows-1252
    (what Excel writes on Windows)."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data and not utf16:
        raise FormatError("This is not a file Shelf can import: it is not text.")
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise FormatError("This is not a file Shelf can import: it is not text.")
        return text
    raise FormatError(
        "Shelf cannot read this file's text: it is neither UTF-8, UTF-16 nor Windows-1252. "
        "Save it again as UTF-8 and upload it again."
    )


def csv_header(text: str) -> list[str]:
    try:
        first = next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return []
    return [name.strip() for name in first]


def csv_rows(text: str):
    """(line, {column: value}) for each non-blank row after the header."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            yield (
                reader.line_num,
                {
                    name: (values[i].strip() if i < len(values) else "")
                    for i, name in enumerate(header)
                },
            )
    except csv.Error as error:
        raise FormatError(f"Line {reader.line_num} of this CSV file is broken: {error}.") from None


def parse_date(value: str, line: int, what: str) -> datetime.date | None:
    """A YYYY-MM-DD date; empty or MyAnimeList's 0000-00-00 (or a 00 month or day) is None."""
    value = value.strip()
    if not value or value.startswith("0000") or value[5:7] == "00" or value[8:10] == "00":
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        raise FormatError(
            f"Line {line}: the {what} “{value}” is not a date (YYYY-MM-DD)."
        ) from None


def parse_int(value: str, line: int, what: str, low: int = 0, high: int | None = None):
    """An integer in [low, high], or None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise FormatError(f"Line {line}: the {what} “{value}” is not a whole number.") from None
    if number < low or (high is not None and number > high):
        bound = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise FormatError(f"Line {line}: the {what} {number} is not {bound}.")
    return number


def _looks_like_xml(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = data[:128].decode("utf-16", errors="ignore").lstrip().encode()
    return head.startswith(b"<")
