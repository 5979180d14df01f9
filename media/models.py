"""The catalog (Movie, Anime, Manga) and one explicit saved table per kind.

Each saved table has a real foreign key to its item, a unique constraint so a person
can save an item once, and an index for "this person's saves, newest first".
What is special to a kind goes on that kind's saved table, never on a shared one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

YEAR_VALIDATORS = [MinValueValidator(1870), MaxValueValidator(2100)]


class CatalogItem(models.Model):
    """What every catalog entry has; each kind adds the facts of its own."""

    kind_key: str  # set on each concrete model: the kinds registry's URL word

    title = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField(validators=YEAR_VALIDATORS)
    synopsis = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["title", "year"]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"

    def get_absolute_url(self) -> str:
        return reverse("media:item", kwargs={"kind": self.kind_key, "pk": self.pk})


class Movie(CatalogItem):
    kind_key = "movie"

    runtime_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Running time in minutes."
    )

    class Meta(CatalogItem.Meta):
        constraints = [
            models.UniqueConstraint(fields=["title", "year"], name="uniq_movie_title_year"),
        ]


class Anime(CatalogItem):
    kind_key = "anime"

    episodes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Total episodes; empty while unknown."
    )

    class Meta(CatalogItem.Meta):
        verbose_name_plural = "anime"
        constraints = [
            models.UniqueConstraint(fields=["title", "year"], name="uniq_anime_title_year"),
        ]


class Manga(CatalogItem):
    kind_key = "manga"

    chapters = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Total chapters; empty while unknown."
    )
    volumes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Total volumes; empty while unknown."
    )

    class Meta(CatalogItem.Meta):
        verbose_name_plural = "manga"
        constraints = [
            models.UniqueConstraint(fields=["title", "year"], name="uniq_manga_title_year"),
        ]


class SavedMovie(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name="saved_movies",
    )
    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="saves")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "movie"], name="uniq_user_movie"),
        ]
        indexes = [
            models.Index(fields=["user", "-created", "-id"], name="saved_movie_user_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.user} saved {self.movie}"


class SavedAnime(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name="saved_anime",
    )
    anime = models.ForeignKey(Anime, on_delete=models.CASCADE, related_name="saves")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "saved anime"
        constraints = [
            models.UniqueConstraint(fields=["user", "anime"], name="uniq_user_anime"),
        ]
        indexes = [
            models.Index(fields=["user", "-created", "-id"], name="saved_anime_user_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.user} saved {self.anime}"


class SavedManga(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name="saved_manga",
    )
    manga = models.ForeignKey(Manga, on_delete=models.CASCADE, related_name="saves")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "saved manga"
        constraints = [
            models.UniqueConstraint(fields=["user", "manga"], name="uniq_user_manga"),
        ]
        indexes = [
            models.Index(fields=["user", "-created", "-id"], name="saved_manga_user_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.user} saved {self.manga}"
