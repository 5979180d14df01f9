"""Movies from TMDB (The Movie Database, API v3), which needs a key (settings.TMDB_API_KEY)."""

from __future__ import annotations

import re
from dataclasses import replace

from django.conf import settings

from media.models import ReleaseStatus
from media.providers.base import (
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

STATUSES = {
    "Released": ReleaseStatus.FINISHED,
    "Rumored": ReleaseStatus.UPCOMING,
    "Planned": ReleaseStatus.UPCOMING,
    "In Production": ReleaseStatus.UPCOMING,
    "Post Production": ReleaseStatus.UPCOMING,
    "Canceled": ReleaseStatus.CANCELLED,
}


class TMDB(Provider):
    """Movies: search, details by TMDB id, and the TMDB title of an IMDb id."""

    key = "tmdb"
    name = "TMDB"
    home_url = "https://www.themoviedb.org"
    notice = "This product uses the TMDB API but is not endorsed or certified by TMDB."
    kinds = ("movie",)
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
        return self._get("/search/movie", params, self._parse_results, budget)[:limit]

    def fetch(self, kind_key: str, provider_id, *, budget: float | None = None) -> Record:
        self._check_kind(kind_key)
        movie_id = positive_id(provider_id)
        if movie_id is None:
            raise NotFound(f"{self.name} has no such title")
        return self._get(f"/movie/{movie_id}", {}, self._parse_details, budget)

    def find_imdb(self, imdb: str, *, budget: float | None = None) -> Record | None:
        """The movie TMDB knows by the IMDb id `imdb` ("tt0137523"), or None.

        The record has a search result's fields (no runtime, no status) plus the IMDb id.
        """
        if imdb_id(imdb) is None:
            return None
        params = {"external_source": "imdb_id"}
        found = self._get(f"/find/{imdb}", params, self._parse_find, budget)
        if not found:
            return None
        return replace(found[0], ids={**found[0].ids, "imdb_id": imdb})

    def title_url(self, kind_key: str, provider_id) -> str:
        return f"{self.home_url}/movie/{provider_id}"

    # The request, and TMDB's answers in the catalog's words.

    def _get(self, path: str, params: dict, parse, budget: float | None):
        token = settings.TMDB_API_KEY
        if not token:
            raise NotConfigured("Movie search needs a TMDB key")
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

    def _parse_results(self, body) -> list[Record]:
        return _found(self._record(movie) for movie in _list(body, "results"))

    def _parse_find(self, body) -> list[Record]:
        return _found(self._record(movie) for movie in _list(body, "movie_results"))

    def _parse_details(self, body) -> Record:
        if not isinstance(body, dict) or (record := self._record(body, details=True)) is None:
            raise TypeError("not a movie")
        return record

    def _record(self, movie: dict, *, details: bool = False) -> Record | None:
        """The movie as a record; None when it lacks an id or a title."""
        tmdb_id = positive_id(movie.get("id"))
        title = text(movie.get("title")) or text(movie.get("original_title"))
        if tmdb_id is None or not title:
            return None
        ids: dict = {"tmdb_id": tmdb_id}
        if details and (imdb := imdb_id(movie.get("imdb_id"))):
            ids["imdb_id"] = imdb
        poster_path = movie.get("poster_path")
        poster = f"{settings.TMDB_IMAGE_URL}/w342{poster_path}" if poster_path else ""
        return Record(
            provider=self.key,
            kind="movie",
            ids=ids,
            title=title,
            alt_titles=other_names(title, [movie.get("original_title")]),
            year=year_of(movie.get("release_date")),
            synopsis=text(movie.get("overview")),
            totals={"runtime_minutes": count(movie.get("runtime"))},  # 0 means unknown too
            poster_url=poster,
            release_status=STATUSES.get(movie.get("status"), ""),
        )


def _found(records) -> list[Record]:
    return [record for record in records if record is not None]


def _list(body, key: str) -> list:
    """The objects in the list `body[key]`; a body without that list is an unexpected one."""
    found = body[key]
    if not isinstance(found, list):
        raise TypeError(f"{key} is not a list")
    return [item for item in found if isinstance(item, dict)]
