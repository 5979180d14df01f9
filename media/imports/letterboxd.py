"""Letterboxd's export CSVs: watched.csv, watchlist.csv, ratings.csv, diary.csv (reviews.csv).

Letterboxd gives no TMDB or IMDb id: rows carry a title and a year to match by. watched.csv and
watchlist.csv have the same columns, so only the file's name tells them apart (the names in the
export ZIP are fixed); a file named otherwise is taken as watched.csv.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from media.imports import Format, FormatError, Row, csv_rows, parse_date, parse_int

COLUMNS = {"Date", "Name", "Year", "Letterboxd URI"}


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
    return Format(name=name, label=label, read=lambda: _rows(text, name))


def parse_rating(value: str, line: int) -> int | None:
    """Letterboxd's 0.5-5 stars in halves, as Shelf's 1-10."""
    if not value:
        return None
    try:
        stars = Decimal(value)
    except InvalidOperation:
        stars = None
    if stars is None or stars * 2 != int(stars * 2) or not 0.5 <= stars <= 5:
        raise FormatError(f"Line {line}: the rating “{value}” is not 0.5 to 5 stars in halves.")
    return int(stars * 2)


def _rows(text: str, name: str) -> list[Row]:
    rows = []
    for line, values in csv_rows(text):
        title = values["Name"]
        if not title:
            raise FormatError(f"Line {line}: this film has no Name.")
        year = parse_int(values["Year"], line, "year", low=1800, high=2200)
        if name == "letterboxd_watchlist":
            status, progress, watched_on = "planned", {}, None
        else:
            status, progress = "completed", {"watched": True}
            watched_on = parse_date(values.get("Watched Date", ""), line, "watched date")
            watched_on = watched_on or parse_date(values["Date"], line, "date")
        rewatch = values.get("Rewatch", "").casefold()
        if rewatch not in ("", "yes", "no"):
            raise FormatError(f"Line {line}: Rewatch is “{values['Rewatch']}”, not Yes or empty.")
        rows.append(
            Row(
                kind="movie",
                title=title,
                year=year,
                ids={},
                status=status,
                progress=progress,
                score=parse_rating(values.get("Rating", ""), line),
                note=values.get("Review", ""),
                started=None,
                finished=None,
                watched_on=watched_on,
                rewatches=1 if rewatch == "yes" else 0,
                line=line,
            )
        )
    return rows
