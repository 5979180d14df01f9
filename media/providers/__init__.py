"""Metadata providers: the interface only (the providers branch replaces this module).

A stub so that code written against the providers' interface imports and its tests run:
the errors, the normalised `Record`, and `PROVIDERS` (empty here; "tmdb" and "jikan" there).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ProviderError(Exception):
    """A provider could not answer; `message` is for people."""

    def __init__(self, message: str = "The provider could not answer.") -> None:
        super().__init__(message)
        self.message = message


class NotConfigured(ProviderError):
    """The provider needs a setting (an API key) that is not set."""


class Unavailable(ProviderError):
    """The provider is down, too slow, or refused (rate limit) within the budget."""


class NotFound(ProviderError):
    """The provider does not know that id."""


@dataclass(frozen=True)
class Record:
    """One title as a provider describes it, in the catalog's vocabulary."""

    provider: str  # "tmdb", "jikan"
    kind: str  # the kinds registry's key
    ids: dict  # the catalog's external id fields: {"mal_id": 1}
    title: str
    alt_titles: tuple[str, ...] = ()
    year: int | None = None
    synopsis: str = ""
    totals: dict = field(default_factory=dict)  # {"episodes": 26}; None while unknown
    poster_url: str = ""
    release_status: str = ""

    @property
    def provider_id(self):
        """The id the provider knows it by (the first of `ids`)."""
        return next(iter(self.ids.values()), None)

    def catalog_fields(self) -> dict:
        """The catalog model's field values this record gives."""
        return {
            **self.ids,
            "title": self.title,
            "alt_titles": list(self.alt_titles),
            "year": self.year,
            "synopsis": self.synopsis,
            **self.totals,
            "poster_url": self.poster_url,
            "release_status": self.release_status,
        }


PROVIDERS: dict = {}
