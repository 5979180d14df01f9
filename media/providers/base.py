"""What every metadata provider shares: the record it gives, the errors it raises, its base class.

`media.providers` re-exports all of it; import from there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import ClassVar

from django.conf import settings

logger = logging.getLogger("shelf.providers")

YEAR_RANGE = (1870, 2100)  # what the catalog's year validators accept
TITLE_MAX = 200  # CatalogItem.title's max_length
POSTER_URL_MAX = 500  # CatalogItem.poster_url's max_length
COUNT_MAX = 32767  # a PositiveSmallIntegerField's ceiling
IMDB_ID = re.compile(r"tt\d{7,10}")  # what Movie.imdb_id's validator accepts

# Each provider's id field on the catalog models, filled as the provider classes are defined.
_ID_FIELDS: dict[str, str] = {}


@dataclass(frozen=True)
class Record:
    """One title as a provider describes it, in the catalog's vocabulary.

    `ids` and `totals` are keyed by catalog model field names ({"mal_id": 457},
    {"episodes": 26}); a total is None while unknown, `release_status` is a
    `media.models.ReleaseStatus` value or "" when unknown, `poster_url` "" when there is none.
    """

    provider: str
    kind: str
    ids: dict
    title: str
    alt_titles: tuple[str, ...] = ()
    year: int | None = None
    synopsis: str = ""
    totals: dict = field(default_factory=dict)
    poster_url: str = ""
    release_status: str = ""

    @property
    def provider_id(self):
        """The id the provider knows the title by (a TMDB id, a MyAnimeList id)."""
        return self.ids.get(_ID_FIELDS[self.provider])

    def catalog_fields(self) -> dict:
        """The record as field values of its kind's catalog model, within what they accept."""
        year = self.year if self.year and YEAR_RANGE[0] <= self.year <= YEAR_RANGE[1] else None
        poster = self.poster_url if len(self.poster_url) <= POSTER_URL_MAX else ""
        return {
            "title": self.title[:TITLE_MAX],
            "alt_titles": list(self.alt_titles),
            "year": year,
            "synopsis": self.synopsis,
            "poster_url": poster,
            "release_status": self.release_status,
            **self.totals,
            **self.ids,
        }


class ProviderError(Exception):
    """A provider could not answer; `message` is a sentence a person can be shown."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotConfigured(ProviderError):
    """The provider needs a setting (a key) that is missing, or that it refused."""


class Unavailable(ProviderError):
    """The provider is down, slow, over its rate limit or answered something unreadable."""


class NotFound(ProviderError):
    """The provider has no title with that id."""


class Provider:
    """A metadata provider: finds titles of the kinds it serves and describes one by its id.

    Every call is bounded by `budget` seconds in all (retries and rate-limit waits included),
    by default `settings.PROVIDER_PAGE_BUDGET`, and raises only `ProviderError`s.
    """

    key: ClassVar[str]  # "tmdb"
    name: ClassVar[str]  # what people see: "TMDB"
    kinds: ClassVar[tuple[str, ...]]  # the kind keys it serves
    id_field: ClassVar[str]  # the catalog field holding its id: "tmdb_id"
    home_url: ClassVar[str]  # its site, for attribution: "https://www.themoviedb.org"
    notice: ClassVar[str] = ""  # the attribution its terms ask for, shown beside its data

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:
            _ID_FIELDS[cls.key] = cls.id_field

    @property
    def configured(self) -> bool:
        """Whether it can be asked at all (TMDB needs a key)."""
        return True

    def search(
        self, kind_key: str, query: str, *, limit: int = 10, budget: float | None = None
    ) -> list[Record]:
        """Titles of `kind_key` matching `query`, best first, at most `limit`."""
        raise NotImplementedError

    def fetch(self, kind_key: str, provider_id, *, budget: float | None = None) -> Record:
        """The title of `kind_key` with the provider's id `provider_id`; NotFound if none."""
        raise NotImplementedError

    def page_url(self, record: Record) -> str:
        """The title's page on the provider's site, for attribution links."""
        return self.title_url(record.kind, record.provider_id)

    def title_url(self, kind_key: str, provider_id) -> str:
        """The page of the title of `kind_key` with the id `provider_id` on the provider's site."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"

    # Helpers for the subclasses.

    def unavailable(self) -> Unavailable:
        return Unavailable(f"{self.name} is not reachable right now")

    def guarded(self, parse):
        """`parse`, turning an answer of an unexpected shape into Unavailable."""

        def guarded(body):
            try:
                return parse(body)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
                logger.warning("%s: unexpected answer (%r)", self.name, error)
                raise self.unavailable() from None

        return guarded

    def _check_kind(self, kind_key: str) -> None:
        if kind_key not in self.kinds:
            raise ValueError(f"{self.name} does not serve {kind_key!r}")  # a caller's mistake


def page_budget(budget: float | None) -> float:
    """The seconds a call may take: the caller's, or what a web page waits at most."""
    return settings.PROVIDER_PAGE_BUDGET if budget is None else budget


def other_names(title: str, names) -> tuple[str, ...]:
    """The names that are not `title`, stripped, once each (ignoring case), blanks dropped."""
    seen = {title.strip().casefold()}
    kept = []
    for name in names:
        name = text(name)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    return tuple(kept)


def text(value) -> str:
    """A string field stripped; "" for null or anything that is not a string."""
    return value.strip() if isinstance(value, str) else ""


def count(value) -> int | None:
    """A total as the catalog keeps it: a positive whole number, else unknown (None)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= COUNT_MAX else None


def positive_id(value) -> int | None:
    """A provider's numeric id (an int or its digits), or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def year_of(date) -> int | None:
    """The year of an ISO date or datetime string ("1999-10-15", "2005-10-23T00:00:00+00:00")."""
    if isinstance(date, str) and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def imdb_id(value) -> str | None:
    """An IMDb id the catalog accepts ("tt0137523"), or None."""
    return value if isinstance(value, str) and IMDB_ID.fullmatch(value) else None
