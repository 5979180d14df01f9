"""The kinds registry: one entry per kind of media, keyed by its URL word.

URLs, views, templates, the feed and the admin read this mapping, so a fourth kind
is one catalog model, one saved model, one entry here and a migration.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from media.models import Anime, Manga, Movie, SavedAnime, SavedManga, SavedMovie


@dataclass(frozen=True)
class Kind:
    key: str  # the URL word in /save/<key>/<pk>/ and ?kind=<key>
    slug: str  # the list's path: /<slug>/
    label: str  # "Movie"
    plural: str  # "Movies"
    item_model: type[models.Model]
    saved_model: type[models.Model]

    @property
    def item_field(self) -> str:
        """Name of the saved model's foreign key to the item ("movie", "anime", "manga")."""
        return self.key

    def __str__(self) -> str:
        return self.key


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("movie", "movies", "Movie", "Movies", Movie, SavedMovie),
        Kind("anime", "anime", "Anime", "Anime", Anime, SavedAnime),
        Kind("manga", "manga", "Manga", "Manga", Manga, SavedManga),
    )
}
KINDS_BY_SLUG: dict[str, Kind] = {kind.slug: kind for kind in KINDS.values()}


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
