"""IMDb CSV exports: ratings, and list or watchlist exports.

Films become movies and series (TV Series, TV Mini Series) TV shows, matched by their IMDb id.
Episodes, specials, games and podcasts are kept as skipped rows that say why, so that nothing
disappears silently.

A rated film was seen: completed, watched on the day it was rated. A rating of a series says
nothing of how far its person got (a first episode, or every season), so its row has the score
and the day it was rated (when it was saved) but no status. A list or watchlist row is planned.
"""

from __future__ import annotations

import re

from media.imports import Format, FormatError, Row, csv_rows, parse_date, parse_int

# Title Type, lower-cased without spaces or hyphens ("TV Episode" and "tvEpisode" alike).
FILMS = {"", "movie", "tvmovie", "short", "tvshort", "video"}
SERIES = {"tvseries", "tvminiseries"}
SKIPPED = {
    "tvepisode": "a TV episode",
    "tvspecial": "a TV special, neither a film nor a series",
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
        kind = "show" if title_type in SERIES else "movie"
        if title_type in FILMS or title_type in SERIES:
            skip = ""
        else:
            skip = SKIPPED.get(title_type, f"a {values['Title Type']}, not a film or a series")
        score = parse_int(values.get("Your Rating", ""), line, "rating", low=1, high=10)
        added = None
        if name == "imdb_ratings":
            rated = parse_date(values.get("Date Rated", ""), line, "Date Rated")
            note = ""
            if kind == "movie":
                status, progress, watched_on = "completed", {"watched": True}, rated
            else:
                status, progress, watched_on, added = None, {}, None, rated
        else:
            status, progress, watched_on = "planned", {}, None
            note = values.get("Description", "")
        rows.append(
            Row(
                kind=kind,
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
                added=added,
            )
        )
    return rows
