"""Letterboxd's export: the ZIP, or one of its CSVs (watched, watchlist, ratings, diary, reviews).

Letterboxd gives no TMDB or IMDb id: rows carry a title and a year to match by. watched.csv and
watchlist.csv have the same columns, so only the file's name tells them apart (the names in the
export ZIP are fixed); a file named otherwise is taken as watched.csv.

Whatever was uploaded, the rows are one per film (by Name and Year: the Letterboxd URIs differ
between the files, so they join nothing), merged from every file that mentions it:

- Seen (status completed, watched) when watched.csv, ratings.csv, diary.csv or reviews.csv has
  it; planned only when the watchlist alone has it.
- Each diary.csv entry is a viewing. A reviews.csv entry is the diary entry that carries the
  review: it is the viewing with its Letterboxd URI, else the one on its date without a review
  yet, else a viewing of its own. An entry repeating an earlier entry's URI is counted once.
- watched_on: the latest viewing's Watched Date (else its Date); with no viewing, the latest Date
  of watched.csv or ratings.csv.
- rewatches: the viewings less one, or the viewings marked Rewatch, whichever is more (a film
  first seen before the person joined Letterboxd has one viewing, marked Rewatch: one rewatch).
- score: ratings.csv's rating (the current one), else the latest rated viewing's.
- note: the latest non-empty review.
- added: the earliest Date any file gives the film.
- line: the first line that mentions the film, reading watched, diary, reviews, ratings and
  watchlist in that order. In the ZIP, messages name the file ("diary.csv line 12: …").
"""

from __future__ import annotations

import datetime
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from media.imports import (
    Format,
    FormatError,
    Row,
    csv_header,
    csv_rows,
    decode_text,
    parse_date,
    parse_int,
)

COLUMNS = {"Date", "Name", "Year", "Letterboxd URI"}
# The export's files, in the order they are read (which decides a film's line and its order).
FILES = ("watched.csv", "diary.csv", "reviews.csv", "ratings.csv", "watchlist.csv")
# A single CSV upload is read as the export's file of its kind.
FILE_OF = {
    "letterboxd_watched": "watched.csv",
    "letterboxd_watchlist": "watchlist.csv",
    "letterboxd_ratings": "ratings.csv",
    "letterboxd_diary": "diary.csv",
}


def detect(header: list[str], text: str, filename: str = "") -> Format | None:
    if not COLUMNS.issubset(header):
        return None
    if "Watched Date" in header or "Rewatch" in header:
        name, label = "letterboxd_diary", "Letterboxd diary"
    elif "Rating" in header:
        name, label = "letterboxd_ratings", "Letterboxd ratings"
    elif "watchlist" in filename.casefold():
        name, label = "letterboxd_watchlist", "Letterboxd watchlist"
    else:
        name, label = "letterboxd_watched", "Letterboxd watched films"
    file = "reviews.csv" if "Review" in header else FILE_OF[name]
    return Format(name=name, label=label, read=lambda: merge({file: text}))


def detect_zip(data: bytes) -> Format:
    """Letterboxd's export ZIP: its top-level CSVs, read warily (see `archive`)."""
    from media.imports import archive

    members = archive.read_members(data, FILES)
    if not members:
        raise FormatError(
            "This ZIP file is not a Letterboxd export: Shelf looked for watched.csv, diary.csv, "
            "reviews.csv, ratings.csv and watchlist.csv at its top level (or in its one folder) "
            "and found none of them."
        )
    texts = {}
    for file, content in members.items():
        if not content.strip():
            continue  # an empty file: nothing of that kind
        with _naming(file):
            text = decode_text(content)
        header = csv_header(text)
        needed = COLUMNS | ({"Rating"} if file == "ratings.csv" else set())
        missing = [column for column in sorted(needed) if column not in header]
        if missing:
            raise FormatError(
                f"{file} in this ZIP file is not Letterboxd's: its first line lacks the "
                f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
            )
        texts[file] = text
    return Format(
        name="letterboxd_export",
        label="Letterboxd export (ZIP)",
        read=lambda: merge(texts, in_zip=True),
    )


RATING = re.compile(r"[0-5](?:\.[05]0*)?")


def parse_rating(value: str, line: int) -> int | None:
    """Letterboxd's 0.5-5 stars in halves, as Shelf's 1-10. Only digits are read (never
    "NaN", "Infinity" or an exponent that would take minutes to expand)."""
    if not value:
        return None
    stars = Decimal(value) if RATING.fullmatch(value.strip()) else None
    if stars is None or not Decimal("0.5") <= stars <= 5:
        raise FormatError(f"Line {line}: the rating “{value}” is not 0.5 to 5 stars in halves.")
    return int(stars * 2)


@dataclass
class _Viewing:
    on: datetime.date | None
    uri: str
    rewatch: bool
    score: int | None
    review: str
    order: int  # the order it was read in, to break ties between viewings of one day


@dataclass
class _Film:
    title: str
    year: int | None
    line: int
    seen: bool = False
    planned: bool = False
    score: int | None = None  # ratings.csv's
    marked_on: datetime.date | None = None  # watched.csv's or ratings.csv's latest Date
    dates: list[datetime.date] = field(default_factory=list)
    viewings: list[_Viewing] = field(default_factory=list)

    def latest(self) -> list[_Viewing]:
        """The viewings, latest last (undated ones first)."""
        return sorted(self.viewings, key=lambda v: (v.on or datetime.date.min, v.order))


@contextmanager
def _naming(file: str | None):
    """In the ZIP, say which file a FormatError is about: "Line 12: …" becomes "diary.csv line
    12: …", and any other message is introduced by the file's name."""
    try:
        yield
    except FormatError as error:
        if file is None:
            raise
        message = str(error)
        at_line = re.match(r"Line (\d+)(?: of this CSV file)?", message)
        if at_line:
            message = f"{file} line {at_line.group(1)}{message[at_line.end() :]}"
        else:
            message = f"{file} in this ZIP file: {message}"
        raise FormatError(message) from None


def merge(texts: dict[str, str], in_zip: bool = False) -> list[Row]:
    """One row per film from Letterboxd CSVs, {file name: text} (names from `FILES`)."""
    films: dict[tuple[str, int | None], _Film] = {}
    order = 0
    for file in FILES:
        if file not in texts:
            continue
        with _naming(file if in_zip else None):
            for line, values in csv_rows(texts[file]):
                order += 1
                _read(films, file, line, values, order)
    return [_row(film) for film in films.values()]


def _read(films: dict, file: str, line: int, values: dict[str, str], order: int) -> None:
    title = values["Name"]
    if not title:
        raise FormatError(f"Line {line}: this film has no Name.")
    year = parse_int(values["Year"], line, "year", low=1800, high=2200)
    date = parse_date(values["Date"], line, "date")
    key = (" ".join(title.split()).casefold(), year)
    film = films.setdefault(key, _Film(title=title, year=year, line=line))
    if date:
        film.dates.append(date)
    if file == "watchlist.csv":
        film.planned = True
        return
    film.seen = True
    if file in ("watched.csv", "ratings.csv"):
        if date and (film.marked_on is None or date > film.marked_on):
            film.marked_on = date
        score = parse_rating(values.get("Rating", ""), line)
        if score is not None:
            film.score = score
        return
    rewatch = values.get("Rewatch", "").casefold()
    if rewatch not in ("", "yes", "no"):
        raise FormatError(f"Line {line}: Rewatch is “{values['Rewatch']}”, not Yes or empty.")
    viewing = _Viewing(
        on=parse_date(values.get("Watched Date", ""), line, "watched date") or date,
        uri=values["Letterboxd URI"],
        rewatch=rewatch == "yes",
        score=parse_rating(values.get("Rating", ""), line),
        review=values.get("Review", ""),
        order=order,
    )
    same = _same_viewing(film, viewing, reviewing=file == "reviews.csv")
    if same is None:
        film.viewings.append(viewing)
    elif viewing.review and not same.review:
        same.review = viewing.review


def _same_viewing(film: _Film, viewing: _Viewing, reviewing: bool) -> _Viewing | None:
    """The viewing already read that `viewing` repeats: the one with its Letterboxd URI, or for
    a review, the one on its date that has no review yet."""
    if viewing.uri:
        for other in film.viewings:
            if other.uri == viewing.uri:
                return other
    if reviewing:
        for other in film.viewings:
            if other.on == viewing.on and not other.review:
                return other
    return None


def _row(film: _Film) -> Row:
    viewings = film.latest()
    rated = [viewing.score for viewing in viewings if viewing.score is not None]
    reviews = [viewing.review for viewing in viewings if viewing.review]
    dated = [viewing.on for viewing in viewings if viewing.on]
    rewatches = 0
    if viewings:
        rewatches = max(len(viewings) - 1, sum(viewing.rewatch for viewing in viewings))
    return Row(
        kind="movie",
        title=film.title,
        year=film.year,
        ids={},
        status="completed" if film.seen else "planned",
        progress={"watched": True} if film.seen else {},
        score=film.score if film.score is not None else (rated[-1] if rated else None),
        note=reviews[-1] if reviews else "",
        started=None,
        finished=None,
        watched_on=(max(dated) if dated else film.marked_on) if film.seen else None,
        rewatches=rewatches,
        line=film.line,
        added=min(film.dates) if film.dates else None,
    )
