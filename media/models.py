"""The catalog (Movie, Anime, Manga) and one explicit saved table per kind.

Each saved table has a real foreign key to its item, a unique constraint so a person
can save an item once, and an index for "this person's saves, newest first".
What is special to a kind goes on that kind's saved table, never on a shared one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse

YEAR_VALIDATORS = [MinValueValidator(1870), MaxValueValidator(2100)]


class CatalogItem(models.Model):
    """What every catalog entry has; each kind adds the facts of its own."""

    kind_key: str  # set on each concrete model: the kinds registry's URL word
    progress_limits: dict[str, str] = {}  # a total -> the saved progress it bounds

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

    def clean(self) -> None:
        """A total may not drop below what someone has already tracked of it."""
        super().clean()
        if self.pk is None:
            return
        errors = {}
        for total_name, progress_name in self.progress_limits.items():
            total = getattr(self, total_name)
            if total is not None and self.saves.filter(**{f"{progress_name}__gt": total}).exists():
                errors[total_name] = (
                    f"Someone has tracked more {total_name} than {total}: "
                    "the total cannot be lower."
                )
        if errors:
            raise ValidationError(errors)


class Movie(CatalogItem):
    kind_key = "movie"

    runtime_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Running time in minutes."
    )

    class Meta(CatalogItem.Meta):
        constraints = [
            models.UniqueConstraint(fields=["title", "year"], name="uniq_movie_title_year"),
        ]
        indexes = [models.Index(fields=["-year", "title"], name="movie_newest")]


class Anime(CatalogItem):
    kind_key = "anime"
    progress_limits = {"episodes": "episode_progress"}

    episodes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Total episodes; empty while unknown."
    )

    class Meta(CatalogItem.Meta):
        verbose_name_plural = "anime"
        constraints = [
            models.UniqueConstraint(fields=["title", "year"], name="uniq_anime_title_year"),
        ]
        indexes = [models.Index(fields=["-year", "title"], name="anime_newest")]


class Manga(CatalogItem):
    kind_key = "manga"
    progress_limits = {"chapters": "chapter_progress", "volumes": "volume_progress"}

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
        indexes = [models.Index(fields=["-year", "title"], name="manga_newest")]


class Status(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    ON_HOLD = "on_hold", "On hold"
    DROPPED = "dropped", "Dropped"


SCORE_MIN, SCORE_MAX = 1, 10
# Typed NULLs: PostgreSQL cannot UNION an untyped NULL column with a number or a date.
NULL_INTEGER = Cast(Value(None), models.IntegerField())
NULL_DATE = Cast(Value(None), models.DateField())
NOTE_MAX_LENGTH = 500


# Checks that repeat what a field's own validators (range, choices, length) already refuse.
FIELD_CHECKS = ("_score_range", "_status_valid", "_note_length", "_progress_not_negative")


def tracking_constraints(kind: str) -> list[models.BaseConstraint]:
    """The checks every saved table carries, named after its kind."""
    return [
        models.CheckConstraint(
            condition=Q(score__isnull=True) | Q(score__gte=SCORE_MIN, score__lte=SCORE_MAX),
            name=f"saved_{kind}_score_range",
        ),
        models.CheckConstraint(
            condition=Q(status__in=Status.values), name=f"saved_{kind}_status_valid"
        ),
        models.CheckConstraint(
            condition=LessThanOrEqual(Length("note"), NOTE_MAX_LENGTH),
            name=f"saved_{kind}_note_length",
        ),
    ]


class SavedItem(models.Model):
    """What every saved table has besides its user, its item and its own progress.

    Each kind names its progress: `progress` and `total` read it as numbers (for the
    bar), `mark_complete()` sets it to the end. Progress past the item's total is
    refused by database triggers (migration 0003), since a CHECK cannot see the item.
    """

    item_field: str  # the foreign key to the catalog item
    progress_field: str  # what `progress` reads
    tracking_fields: list[str]  # what the person edits, in form order
    progress_totals: dict[str, str]  # progress field -> the item's total it may not pass
    progress_unit: str  # what the progress counts, for "12 / 26 episodes"

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    score = models.PositiveSmallIntegerField(
        "score",
        null=True,
        blank=True,
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
        help_text=f"{SCORE_MIN} to {SCORE_MAX}, or empty.",
    )
    note = models.CharField(
        "private note", max_length=NOTE_MAX_LENGTH, blank=True, help_text="Only you see it."
    )

    class Meta:
        abstract = True

    def get_constraints(self):
        """What `full_clean` asks the database about: not the checks that only repeat a
        field's validators (it has run those), which would cost a query apiece."""
        return [
            (model, [c for c in constraints if not c.name.endswith(FIELD_CHECKS)])
            for model, constraints in super().get_constraints()
        ]

    @property
    def item(self) -> CatalogItem:
        return getattr(self, self.item_field)

    def clean(self) -> None:
        """Progress may not pass the item's total (the triggers' rule, said kindly)."""
        super().clean()
        if getattr(self, f"{self.item_field}_id") is None:
            return
        item, errors = self.item, {}
        for name, total_name in self.progress_totals.items():
            total, value = getattr(item, total_name), getattr(self, name)
            if total is not None and value is not None and value > total:
                errors[name] = (
                    f"{item.title} has {total} {total_name}: enter a number from 0 to {total}."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def progress(self) -> int:
        raise NotImplementedError

    @property
    def total(self) -> int | None:
        raise NotImplementedError

    def mark_complete(self) -> None:
        raise NotImplementedError

    @classmethod
    def feed_columns(cls) -> dict[str, Combinable]:
        """This kind's tracking as the feed's shared columns: progress, total, progress2,
        total2 and date (typed NULL where a kind has no such thing)."""
        raise NotImplementedError

    def load_feed_columns(self, *, progress, total, progress2, total2, date) -> None:
        """Set this row's tracking (and its item's totals) from the feed's columns."""
        raise NotImplementedError

    def __str__(self) -> str:
        return f"{self.user} saved {self.item}"


class SavedMovie(SavedItem):
    item_field = "movie"
    progress_field = "watched"
    tracking_fields = ["watched", "watched_on", "status", "score", "note"]
    progress_totals: dict[str, str] = {}
    progress_unit = ""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name="saved_movies",
    )
    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="saves")
    watched = models.BooleanField("watched", default=False)
    watched_on = models.DateField("watched on", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "movie"], name="uniq_user_movie"),
            *tracking_constraints("movie"),
            models.CheckConstraint(
                condition=Q(watched=True) | Q(watched_on__isnull=True),
                name="saved_movie_watched_on_needs_watched",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created", "-id"], name="saved_movie_user_newest"),
            models.Index(fields=["user", "-updated", "-id"], name="saved_movie_user_updated"),
        ]

    @property
    def progress(self) -> int:
        return int(self.watched)

    @property
    def total(self) -> int:
        return 1

    def mark_complete(self) -> None:
        self.watched = True

    @classmethod
    def feed_columns(cls) -> dict[str, Combinable]:
        return {
            "progress": Cast("watched", models.IntegerField()),
            "total": Cast(Value(1), models.IntegerField()),
            "progress2": NULL_INTEGER,
            "total2": NULL_INTEGER,
            "date": F("watched_on"),
        }

    def load_feed_columns(self, *, progress, total, progress2, total2, date) -> None:
        self.watched = bool(progress)
        self.watched_on = date


class SavedAnime(SavedItem):
    item_field = "anime"
    progress_field = "episode_progress"
    tracking_fields = ["episode_progress", "status", "score", "note"]
    progress_totals = {"episode_progress": "episodes"}
    progress_unit = "episodes"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name="saved_anime",
    )
    anime = models.ForeignKey(Anime, on_delete=models.CASCADE, related_name="saves")
    episode_progress = models.PositiveIntegerField("episodes watched", default=0)

    class Meta:
        verbose_name_plural = "saved anime"
        constraints = [
            models.UniqueConstraint(fields=["user", "anime"], name="uniq_user_anime"),
            *tracking_constraints("anime"),
            models.CheckConstraint(
                condition=Q(episode_progress__gte=0), name="saved_anime_progress_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created", "-id"], name="saved_anime_user_newest"),
            models.Index(fields=["user", "-updated", "-id"], name="saved_anime_user_updated"),
        ]

    @property
    def progress(self) -> int:
        return self.episode_progress

    @property
    def total(self) -> int | None:
        return self.anime.episodes

    def mark_complete(self) -> None:
        if self.anime.episodes is not None:
            self.episode_progress = self.anime.episodes

    @classmethod
    def feed_columns(cls) -> dict[str, Combinable]:
        return {
            "progress": F("episode_progress"),
            "total": F("anime__episodes"),
            "progress2": NULL_INTEGER,
            "total2": NULL_INTEGER,
            "date": NULL_DATE,
        }

    def load_feed_columns(self, *, progress, total, progress2, total2, date) -> None:
        self.episode_progress = progress
        self.anime.episodes = total


class SavedManga(SavedItem):
    item_field = "manga"
    progress_field = "chapter_progress"
    tracking_fields = ["chapter_progress", "volume_progress", "status", "score", "note"]
    progress_totals = {"chapter_progress": "chapters", "volume_progress": "volumes"}
    progress_unit = "chapters"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name="saved_manga",
    )
    manga = models.ForeignKey(Manga, on_delete=models.CASCADE, related_name="saves")
    chapter_progress = models.PositiveIntegerField("chapters read", default=0)
    volume_progress = models.PositiveIntegerField("volumes read", default=0)

    class Meta:
        verbose_name_plural = "saved manga"
        constraints = [
            models.UniqueConstraint(fields=["user", "manga"], name="uniq_user_manga"),
            *tracking_constraints("manga"),
            models.CheckConstraint(
                condition=Q(chapter_progress__gte=0, volume_progress__gte=0),
                name="saved_manga_progress_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created", "-id"], name="saved_manga_user_newest"),
            models.Index(fields=["user", "-updated", "-id"], name="saved_manga_user_updated"),
        ]

    @property
    def progress(self) -> int:
        return self.chapter_progress

    @property
    def total(self) -> int | None:
        return self.manga.chapters

    def mark_complete(self) -> None:
        if self.manga.chapters is not None:
            self.chapter_progress = self.manga.chapters
        if self.manga.volumes is not None:
            self.volume_progress = self.manga.volumes

    @classmethod
    def feed_columns(cls) -> dict[str, Combinable]:
        return {
            "progress": F("chapter_progress"),
            "total": F("manga__chapters"),
            "progress2": F("volume_progress"),
            "total2": F("manga__volumes"),
            "date": NULL_DATE,
        }

    def load_feed_columns(self, *, progress, total, progress2, total2, date) -> None:
        self.chapter_progress = progress
        self.manga.chapters = total
        self.volume_progress = progress2
        self.manga.volumes = total2


class SavedCount(models.Model):
    """How many saves of one kind a person has in one status: the dashboard's counts.

    Database triggers on the saved tables keep it (migration 0004), whatever the path of
    the write (the site, the admin, a cascade), so the counts cost one indexed read
    instead of a scan of the person's saves.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name="+",
    )
    kind = models.CharField(max_length=12)  # the kinds registry's key
    status = models.CharField(max_length=12, choices=Status.choices)
    saves = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "status"], name="uniq_saved_count"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.saves} {self.kind} {self.status}"
