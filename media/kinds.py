"""The kinds registry: one entry per kind of media, keyed by its URL word.

URLs, views, templates, the feed, the admin, the demo catalog, the scale data and the tests
read this mapping, and ask a kind's models what is special about it (`media.models`). A
fourth kind is one catalog model, one saved model, one entry here, its migration, its demo
rows and (when its tracking is not counters) its panel template: README's "Adding a kind".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from media.models import (
    Anime,
    CatalogItem,
    Manga,
    Movie,
    SavedAnime,
    SavedItem,
    SavedManga,
    SavedMovie,
    SavedShow,
    Show,
)

DEMO_DIR = Path(__file__).resolve().parent / "demo"


@dataclass(frozen=True)
class Kind:
    key: str  # the URL word in /save/<key>/<pk>/ and ?kind=<key>
    slug: str  # the list's path: /<slug>/
    label: str  # "Movie"
    plural: str  # "Movies"
    item_model: type[CatalogItem]
    saved_model: type[SavedItem]
    provider_key: str  # which of `media.providers.PROVIDERS` finds its titles

    @property
    def provider(self):
        """The metadata provider that finds and describes titles of this kind."""
        from media.providers import PROVIDERS  # the providers read settings, not the registry

        return PROVIDERS[self.provider_key]

    @property
    def label_in_text(self) -> str:
        """The label inside a sentence: "movie", "TV show"."""
        return lowercase(self.label)

    @property
    def plural_in_text(self) -> str:
        """The plural inside a sentence: "movies", "TV shows"."""
        return lowercase(self.plural)

    @property
    def item_field(self) -> str:
        """Name of the saved model's foreign key to the item ("movie", "anime", "manga")."""
        return self.saved_model.item_field

    @property
    def demo_file(self) -> Path:
        """The demo catalog's titles of this kind: media/demo/<key>.json."""
        return DEMO_DIR / f"{self.key}.json"

    def demo_rows(self) -> list:
        return json.loads(self.demo_file.read_text(encoding="utf-8"))

    def __str__(self) -> str:
        return self.key


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("movie", "movies", "Movie", "Movies", Movie, SavedMovie, "tmdb"),
        Kind("anime", "anime", "Anime", "Anime", Anime, SavedAnime, "jikan"),
        Kind("manga", "manga", "Manga", "Manga", Manga, SavedManga, "jikan"),
        Kind("show", "tv", "TV show", "TV shows", Show, SavedShow, "tmdb"),
    )
}
KINDS_BY_SLUG: dict[str, Kind] = {kind.slug: kind for kind in KINDS.values()}


def kinds_in_words() -> str:
    """The kinds as a phrase: "movies, anime, manga and TV shows"."""
    return in_words([kind.plural_in_text for kind in KINDS.values()])


def in_words(words: list[str]) -> str:
    """Words as a phrase: "movies", "movies and TV shows", "movies, books and TV shows"."""
    return " and ".join(filter(None, [", ".join(words[:-1]), *words[-1:]]))


def lowercase(words: str) -> str:
    """Words in lowercase, but for a word that is all capitals: "TV shows"."""
    return " ".join(word if word.isupper() else word.lower() for word in words.split())


class KindConverter:
    """URL converter: matches a registry key and hands the view its Kind."""

    regex = "|".join(KINDS)

    def to_python(self, value: str) -> Kind:
        return KINDS[value]

    def to_url(self, value: Kind | str) -> str:
        return str(value)


class KindSlugConverter:
    """URL converter for list paths (/movies/, /anime/, /manga/)."""

    regex = "|".join(KINDS_BY_SLUG)

    def to_python(self, value: str) -> Kind:
        return KINDS_BY_SLUG[value]

    def to_url(self, value: Kind | str) -> str:
        return value.slug if isinstance(value, Kind) else KINDS[value].slug
