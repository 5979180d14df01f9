"""Movies and TV shows from TMDB (The Movie Database, API v3), which needs a key
(settings.TMDB_API_KEY)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from django.conf import settings

from media.models import ReleaseStatus, Show
from media.providers.base import (
    COUNT_MAX,
    NotConfigured,
    NotFound,
    Provider,
    Record,
    count,
    imdb_id,
    other_names,
    page_budget,
    positive_id,
    text,
    year_of,
)
from media.providers.http import Client

V3_KEY = re.compile(r"[0-9a-fA-F]{32}")  # a v3 key; anything longer is a v4 read token


@dataclass(frozen=True)
class Words:
    """How TMDB names the things of one kind: its paths and the fields Shelf reads."""

    path: str  # its word in TMDB's URLs: /search/tv, /tv/1396
    title: str
    original_title: str
    first_date: str
    find_results: str  # the list of /find's answer that holds it
    statuses: dict[str, str]


WORDS = {
    "movie": Words(
        path="movie",
        title="title",
        original_title="original_title",
        first_date="release_date",
        find_results="movie_results",
        statuses={
            "Released": ReleaseStatus.FINISHED,
            "Rumored": ReleaseStatus.UPCOMING,
            "Planned": ReleaseStatus.UPCOMING,
            "In Production": ReleaseStatus.UPCOMING,
            "Post Production": ReleaseStatus.UPCOMING,
            "Canceled": ReleaseStatus.CANCELLED,
        },
    ),
    "show": Words(
        path="tv",
        title="name",
        original_title="original_name",
        first_date="first_air_date",
        find_results="tv_results",
        statuses={
            "Returning Series": ReleaseStatus.RELEASING,
            "In Production": ReleaseStatus.UPCOMING,
            "Planned": ReleaseStatus.UPCOMING,
            "Pilot": ReleaseStatus.UPCOMING,
            "Ended": ReleaseStatus.FINISHED,
            "Canceled": ReleaseStatus.CANCELLED,
            "Cancelled": ReleaseStatus.CANCELLED,
        },
    ),
}


class TMDB(Provider):
    """Movies and TV shows: search, details by TMDB id, and the TMDB title of an IMDb id."""

    key = "tmdb"
    name = "TMDB"
    home_url = "https://www.themoviedb.org"
    notice = "This product uses the TMDB API but is not endorsed or certified by TMDB."
    kinds = ("movie", "show")
    id_field = "tmdb_id"

    def __init__(self) -> None:
        # TMDB's soft cap is 40-50 requests a second.
        self.client = Client(
            self.key, self.name, ((40, 1.0),), refused_message="The TMDB key was refused"
        )

    @property
    def configured(self) -> bool:
        return bool(settings.TMDB_API_KEY)

    def search(
        self, kind_key: str, query: str, *, limit: int = 10, budget: float | None = None
    ) -> list[Record]:
        self._check_kind(kind_key)
        query = query.strip()
        if not query:
            return []
        params = {"query": query, "include_adult": "false"}

        def parse(body) -> list[Record]:
            return _found(self._record(kind_key, entry) for entry in _list(body, "results"))

        path = f"/search/{WORDS[kind_key].path}"
        return self._get(kind_key, path, params, parse, budget)[:limit]

    def fetch(self, kind_key: str, provider_id, *, budget: float | None = None) -> Record:
        """The title's details; a show's come with its seasons and, in the same request, its
        IMDb id (`append_to_response=external_ids`)."""
        self._check_kind(kind_key)
        tmdb_id = positive_id(provider_id)
        if tmdb_id is None:
            raise NotFound(f"{self.name} has no such title")
        params = {"append_to_response": "external_ids"} if kind_key == "show" else {}

        def parse(body) -> Record:
            record = self._record(kind_key, body, details=True) if isinstance(body, dict) else None
            if record is None:
                raise TypeError(f"not a {kind_key}")
            return record

        return self._get(kind_key, f"/{WORDS[kind_key].path}/{tmdb_id}", params, parse, budget)

    def find_imdb(
        self, imdb: str, *, kind_key: str = "movie", budget: float | None = None
    ) -> Record | None:
        """The title of `kind_key` TMDB knows by the IMDb id `imdb` ("tt0137523"), or None.

        The record has a search result's fields (no runtime, no seasons, no status) plus the
        IMDb id.
        """
        self._check_kind(kind_key)
        if imdb_id(imdb) is None:
            return None
        params = {"external_source": "imdb_id"}

        def parse(body) -> list[Record]:
            entries = _list(body, WORDS[kind_key].find_results)
            return _found(self._record(kind_key, entry) for entry in entries)

        found = self._get(kind_key, f"/find/{imdb}", params, parse, budget)
        if not found:
            return None
        return replace(found[0], ids={**found[0].ids, "imdb_id": imdb})

    def title_url(self, kind_key: str, provider_id) -> str:
        return f"{self.home_url}/{WORDS[kind_key].path}/{provider_id}"

    # The request, and TMDB's answers in the catalog's words.

    def _get(self, kind_key: str, path: str, params: dict, parse, budget: float | None):
        token = settings.TMDB_API_KEY
        if not token:
            from media.kinds import KINDS  # lazily: the registry reaches the providers too

            raise NotConfigured(f"{KINDS[kind_key].label} search needs a TMDB key")
        if V3_KEY.fullmatch(token):
            auth_params, headers = {"api_key": token}, {}
        else:
            auth_params, headers = {}, {"Authorization": f"Bearer {token}"}
        return self.client.get(
            settings.TMDB_API_URL,
            path,
            params,
            parse=self.guarded(parse),
            budget=page_budget(budget),
            auth_params=auth_params,
            headers=headers,
        )

    def _record(self, kind_key: str, entry: dict, *, details: bool = False) -> Record | None:
        """A movie or a show as a record; None when it lacks an id or a title."""
        words = WORDS[kind_key]
        tmdb_id = positive_id(entry.get("id"))
        title = text(entry.get(words.title)) or text(entry.get(words.original_title))
        if tmdb_id is None or not title:
            return None
        ids: dict = {"tmdb_id": tmdb_id}
        if details:
            # A movie carries its IMDb id; a show's comes appended, under external_ids.
            external = entry.get("external_ids") if kind_key == "show" else entry
            if isinstance(external, dict) and (imdb := imdb_id(external.get("imdb_id"))):
                ids["imdb_id"] = imdb
        poster_path = entry.get("poster_path")
        poster = f"{settings.TMDB_IMAGE_URL}/w342{poster_path}" if poster_path else ""
        if kind_key == "show":
            totals = show_totals(entry.get("seasons")) if details else _UNKNOWN_SHOW_TOTALS
        else:
            totals = {"runtime_minutes": count(entry.get("runtime"))}  # 0 means unknown too
        status = entry.get("status")
        return Record(
            provider=self.key,
            kind=kind_key,
            ids=ids,
            title=title,
            alt_titles=other_names(title, [entry.get(words.original_title)]),
            year=year_of(entry.get(words.first_date)),
            synopsis=text(entry.get("overview")),
            totals=dict(totals),
            poster_url=poster,
            release_status=words.statuses.get(status, "") if isinstance(status, str) else "",
        )


# A show found by a search or by /find: its seasons are unknown, so no "seasons" key, and
# a refresh never erases what the catalog knows of them.
_UNKNOWN_SHOW_TOTALS = {"season_count": None, "episodes": None}


def show_totals(seasons) -> dict:
    """A show's totals from TMDB's `seasons`, as `Show.fill_totals()` derives them: the seasons
    as [{"number": N, "episodes": M}] by number (season 0, the specials, kept but not
    counted), the highest regular season's number, and the regular seasons' episodes (None
    when there are none). An entry without a whole season number and episode count in the
    catalog's range is left out, and so is a number listed again."""
    by_number: dict[int, int] = {}
    for season in seasons if isinstance(seasons, list) else ():
        if not isinstance(season, dict):
            continue
        number, episodes = season.get("season_number"), season.get("episode_count")
        if _whole(number) and _whole(episodes):
            by_number.setdefault(number, episodes)
    listed = [{"number": n, "episodes": e} for n, e in sorted(by_number.items())]
    show = Show(seasons=listed)
    show.fill_totals()  # the model's own rule, not a copy of it
    return {"seasons": listed, "season_count": show.season_count, "episodes": show.episodes}


def _whole(value) -> bool:
    """A number the catalog keeps for a season: a whole number from 0 to its ceiling."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= COUNT_MAX


def _found(records) -> list[Record]:
    return [record for record in records if record is not None]


def _list(body, key: str) -> list:
    """The objects in the list `body[key]`; a body without that list is an unexpected one."""
    found = body[key]
    if not isinstance(found, list):
        raise TypeError(f"{key} is not a list")
    return [item for item in found if isinstance(item, dict)]
