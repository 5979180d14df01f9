"""Anime and manga from Jikan (API v4), which serves MyAnimeList's data and needs no key.

Jikan asks that nobody crawl it: Shelf asks only for what a person searches for or adds, and
the daily refresh of titles still releasing.
"""

from __future__ import annotations

from django.conf import settings

from media.models import ReleaseStatus
from media.providers.base import (
    NotFound,
    Provider,
    Record,
    count,
    other_names,
    page_budget,
    positive_id,
    text,
    year_of,
)
from media.providers.http import Client

SEARCH_LIMIT_MOST = 25  # Jikan refuses a larger page
MAL_REWRITE = "[Written by MAL Rewrite]"
# MyAnimeList's pictures that stand for "no picture".
PLACEHOLDERS = ("/images/qm_50", "icon-banned")

STATUSES = {
    "anime": {
        "Finished Airing": ReleaseStatus.FINISHED,
        "Currently Airing": ReleaseStatus.RELEASING,
        "Not yet aired": ReleaseStatus.UPCOMING,
    },
    "manga": {
        "Finished": ReleaseStatus.FINISHED,
        "Publishing": ReleaseStatus.RELEASING,
        "On Hiatus": ReleaseStatus.HIATUS,
        "Discontinued": ReleaseStatus.CANCELLED,
    },
}
# Where each kind keeps its first date and its totals.
START_DATE = {"anime": "aired", "manga": "published"}
TOTALS = {"anime": ("episodes",), "manga": ("chapters", "volumes")}


class Jikan(Provider):
    """Anime and manga by MyAnimeList id: search, and details of one."""

    key = "jikan"
    name = "MyAnimeList"  # Jikan serves MyAnimeList's data: people know it by that name
    home_url = "https://myanimelist.net"
    notice = "MyAnimeList data, read through the unofficial Jikan API."
    kinds = ("anime", "manga")
    id_field = "mal_id"

    def __init__(self) -> None:
        # Jikan's documented limits: 3 requests a second and 60 a minute.
        self.client = Client(self.key, self.name, ((3, 1.0), (60, 60.0)))

    def search(
        self, kind_key: str, query: str, *, limit: int = 10, budget: float | None = None
    ) -> list[Record]:
        self._check_kind(kind_key)
        query = query.strip()
        if not query or limit < 1:
            return []
        params = {"q": query, "limit": min(limit, SEARCH_LIMIT_MOST)}

        def parse(body) -> list[Record]:
            found, seen = [], set()
            for entry in _data(body, list):
                record = self._record(kind_key, entry) if isinstance(entry, dict) else None
                # Jikan can list one title twice in a page.
                if record is not None and record.provider_id not in seen:
                    seen.add(record.provider_id)
                    found.append(record)
            return found[:limit]

        return self._get(f"/{kind_key}", params, parse, budget)

    def fetch(self, kind_key: str, provider_id, *, budget: float | None = None) -> Record:
        self._check_kind(kind_key)
        mal_id = positive_id(provider_id)
        if mal_id is None:
            raise NotFound(f"{self.name} has no such title")

        def parse(body) -> Record:
            record = self._record(kind_key, _data(body, dict))
            if record is None:
                raise TypeError("not a title")
            return record

        return self._get(f"/{kind_key}/{mal_id}", {}, parse, budget)

    def title_url(self, kind_key: str, provider_id) -> str:
        return f"{self.home_url}/{kind_key}/{provider_id}"

    def _get(self, path: str, params: dict, parse, budget: float | None):
        return self.client.get(
            settings.JIKAN_API_URL,
            path,
            params,
            parse=self.guarded(parse),
            budget=page_budget(budget),
        )

    def _record(self, kind_key: str, entry: dict) -> Record | None:
        """An anime or manga entry as a record; None when it lacks an id or a title."""
        mal_id = positive_id(entry.get("mal_id"))
        title = text(entry.get("title"))
        if mal_id is None or not title:
            return None
        synonyms = entry.get("title_synonyms") or []
        titles = entry.get("titles") or []
        names = [
            entry.get("title_english"),
            entry.get("title_japanese"),
            *(synonyms if isinstance(synonyms, list) else []),
            *(t.get("title") for t in titles if isinstance(t, dict)),
        ]
        started = entry.get(START_DATE[kind_key]) or {}
        year = entry.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or year <= 0:
            year = year_of(started.get("from") if isinstance(started, dict) else None)
        return Record(
            provider=self.key,
            kind=kind_key,
            ids={"mal_id": mal_id},
            title=title,
            alt_titles=other_names(title, names),
            year=year,
            synopsis=text(text(entry.get("synopsis")).removesuffix(MAL_REWRITE)),
            totals={field: count(entry.get(field)) for field in TOTALS[kind_key]},
            poster_url=_poster(entry.get("images")),
            release_status=STATUSES[kind_key].get(entry.get("status"), ""),
        )


def _data(body, shape: type):
    """The `data` of a Jikan answer, which must be a `shape` (a dict or a list)."""
    data = body["data"]
    if not isinstance(data, shape):
        raise TypeError(f"data is not a {shape.__name__}")
    return data


def _poster(images) -> str:
    """The largest JPEG poster, or "" when there is none (or only MyAnimeList's placeholder)."""
    jpg = images.get("jpg") if isinstance(images, dict) else None
    if not isinstance(jpg, dict):
        return ""
    url = text(jpg.get("large_image_url")) or text(jpg.get("image_url"))
    if not url.startswith(("https://", "http://")) or any(p in url for p in PLACEHOLDERS):
        return ""
    return url
