"""IMDb CSV exports: ratings, and list or watchlist exports.

Only films belong to Shelf's movies: episodes, series and games are kept as skipped rows that
say why, so that nothing disappears silently.
"""

from __future__ import annotations

import re

from media.imports import Format, FormatError, Row, csv_rows, parse_date, parse_int

# Title Type, lower-cased without spaces or hyphens ("TV Episode" and "tvEpisode" alike).
FILMS = {"", "movie", "tvmovie", "short", "tvshort", "video"}
SKIPPED = {
    "tvepisode": "a TV episode",
    "tvseries": "a TV series (Shelf has no TV shows yet)",
    "tvminiseries": "a TV series (Shelf has no TV shows yet)",
    "tvspecial": "a TV special (Shelf has no TV shows yet)",
    "videogame": "a video game",
    "podcastseries": "a podcast",
    "podcastepisode": "a podcast",
}
CONST = re.compile(r"(?:tt)?(\d{1,10})")


def detect(header: list[str], text: str) -> Format | None:
    columns = set(header)
    if not {"Const", "Title"} <= columns or not columns & {"Title Type", "Your Rating"}:
        return None
    if "Position" in columns:
        name, label = "imdb_list", "IMDb list or watchlist"
    elif "Your Rating" in columns:
        name, label = "imdb_ratings", "IMDb ratings"
    else:
        return None
    return Format(name=name, label=label, read=lambda: _rows(text, name))


def imdb_id(value: str, line: int) -> str:
    """`tt` and at least 7 digits, also from a Const that lost its `tt`."""
    found = CONST.fullmatch(value.strip())
    if not found:
        raise FormatError(f"Line {line}: “{value}” is not an IMDb id (tt and digits).")
    return "tt" + found.group(1).zfill(7)


def _rows(text: str, name: str) -> list[Row]:
    rows = []
    for line, values in csv_rows(text):
        title = values.get("Title") or values.get("Original Title", "")
        const = imdb_id(values["Const"], line)
        title_type = re.sub(r"[\s-]", "", values.get("Title Type", "")).casefold()
        if title_type in FILMS:
            skip = ""
        else:
            skip = SKIPPED.get(title_type, f"a {values['Title Type']}, not a film")
        score = parse_int(values.get("Your Rating", ""), line, "rating", low=1, high=10)
        if name == "imdb_ratings":
            status, progress = "completed", {"watched": True}
            watched_on = parse_date(values.get("Date Rated", ""), line, "Date Rated")
            note = ""
        else:
            status, progress, watched_on = "planned", {}, None
            note = values.get("Description", "")
        rows.append(
            Row(
                kind="movie",
                title=title,
                year=parse_int(values.get("Year", ""), line, "year", low=1800, high=2200),
                ids={"imdb_id": const},
                status=status,
                progress=progress,
                score=score,
                note=note,
                started=None,
                finished=None,
                watched_on=watched_on,
                rewatches=0,
                line=line,
                skip_reason=skip,
            )
        )
    return rows
