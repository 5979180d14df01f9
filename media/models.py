"""The catalog and one explicit saved table per kind, plus what the site keeps beside them.

A kind is a catalog model (`CatalogItem`: the facts of its titles) and a saved model
(`SavedItem`: one row per save, with a real foreign key to its item, a unique constraint so a
person saves an item once, an index for "this person's saves, newest first", and what is
special to the kind's tracking). Each kind's models say what is special about it: its facts,
its progress counters and their totals, their unit words, its tracking panel. Generic code
asks them and never tests which kind it holds; the kinds registry (`media.kinds`) lists them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.timezone import is_naive, make_aware

from media.templatetags.shelf import calendar_day
from media.text import search_text

YEAR_VALIDATORS = [MinValueValidator(1870), MaxValueValidator(2100)]


SENTINEL_PK = 918273645  # an id no real URL pattern contains, replaced by the real one


@cache
def _kind_url_pattern(name: str, kind_key: str) -> str:
    url = reverse(name, kwargs={"kind": kind_key, "pk": SENTINEL_PK})
    return url.removeprefix(get_script_prefix()).replace(str(SENTINEL_PK), "{pk}")


def kind_url(name: str, kind_key: str, pk: int) -> str:
    """`reverse(name, kwargs={"kind": kind_key, "pk": pk})`, a page of entries needs dozens:
    each URL name and kind is reversed once, then filled in (behind the request's prefix)."""
    return get_script_prefix() + _kind_url_pattern(name, kind_key).format(pk=int(pk))


def from_columns(model: type[models.Model], columns: dict) -> models.Model:
    """An instance of `model` with exactly the values a database gave for the columns named
    (as JSON, or as raw SQL rows give them); the fields not named keep their defaults."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.column not in columns:
            continue
        value = field.to_python(columns[field.column])
        if isinstance(field, models.DateTimeField) and value is not None and is_naive(value):
            value = make_aware(value, UTC)  # SQLite keeps UTC times without their zone
        values[field.attname] = value
    return model(**values)


@dataclass(frozen=True)
class Unit:
    """What a number counts, in the singular and the plural: "1 episode", "26 episodes"."""

    one: str
    many: str

    def word(self, number: int | None) -> str:
        return self.one if number == 1 else self.many

    def count(self, number: int) -> str:
        return f"{number} {self.word(number)}"


@dataclass(frozen=True)
class Fact:
    """A number the catalog keeps for each title of a kind (a movie's runtime, an anime's
    episodes): pages show it, the admin lists it, the scale data draws it from `scale`."""

    field: str
    unit: Unit
    scale: tuple[int, int]


@dataclass(frozen=True)
class Counter:
    """A progress a person tracks on a save, bounded by a total the item keeps (which may be
    unknown). The first counter of a kind drives its status and its +1 button."""

    field: str  # on the saved model: "episode_progress"
    total: str  # on the item: "episodes"
    unit: Unit


@dataclass(frozen=True)
class CounterState:
    """A counter of one save: its progress and its item's total (None while unknown)."""

    counter: Counter
    progress: int
    total: int | None

    @property
    def text(self) -> str:
        """Both in words: "12 / 26 episodes", "1 episode"."""
        shown = f"{self.progress} / {self.total}" if self.total else str(self.progress)
        return f"{shown} {self.counter.unit.word(self.total or self.progress)}"

    @property
    def can_advance(self) -> bool:
        """Whether +1 is offered: the end is unknown or not reached yet."""
        return not self.total or self.progress < self.total

    @property
    def next(self) -> int:
        return self.progress + 1


def validate_names(value) -> None:
    """Alternative titles are a list of names (text)."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValidationError('Enter a list of names, such as ["Shingeki no Kyojin"].')


class ReleaseStatus(models.TextChoices):
    """Where a title's release stands, in every provider's words mapped to one vocabulary."""

    FINISHED = "finished", "Finished"
    RELEASING = "releasing", "Still releasing"
    UPCOMING = "upcoming", "Not released yet"
    HIATUS = "hiatus", "On hiatus"
    CANCELLED = "cancelled", "Cancelled"


class CatalogQuerySet(models.QuerySet):
    """Bulk writes skip `save()`: these keep `search_text` in step with the names anyway."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.fill_search_text()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, fields = list(objs), list(fields)
        if {"title", "alt_titles"} & set(fields):
            for obj in objs:
                obj.fill_search_text()
            fields = [*fields, "search_text"] if "search_text" not in fields else fields
        return super().bulk_update(objs, fields, *args, **kwargs)


class CatalogItem(models.Model):
    """What every catalog entry has; each kind adds the facts of its own and its external ids.

    A title from a provider keeps the provider's ids (unique where set), so adding it again
    finds the same row; `search_text` holds its names normalised (`media.text`), kept by
    `save()` and by the bulk writes (`CatalogQuerySet`), and indexed per database
    (`media.triggers`, "search index").
    """

    kind_key: ClassVar[str]  # the kinds registry's URL word
    facts: ClassVar[tuple[Fact, ...]] = ()
    provider_id_field: ClassVar[str]  # the id its provider knows it by: "mal_id"
    external_id_fields: ClassVar[tuple[str, ...]] = ()  # every external id it keeps
    release_labels: ClassVar[dict[str, str]] = {}  # the kind's own words for a release status

    title = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=YEAR_VALIDATORS, help_text="Empty while unknown."
    )
    synopsis = models.TextField(blank=True)
    alt_titles = models.JSONField(
        "alternative titles",
        default=list,
        blank=True,
        validators=[validate_names],
        help_text='Other names it is known by, as a JSON list: ["Shingeki no Kyojin"].',
    )
    poster_url = models.URLField("poster URL", max_length=500, blank=True)
    release_status = models.CharField(
        max_length=12, choices=ReleaseStatus.choices, blank=True, help_text="Empty when unknown."
    )
    refreshed = models.DateTimeField(
        null=True, blank=True, help_text="When its provider's facts were last read."
    )
    search_text = models.TextField(editable=False, default="")

    objects = CatalogQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["title", "year", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    def fill_search_text(self) -> None:
        """Set `search_text` from the names (what `save()` does; bulk writes call it)."""
        names = self.alt_titles if isinstance(self.alt_titles, list) else ()
        self.search_text = search_text(self.title, [n for n in names if isinstance(n, str)])

    def save(self, *args, **kwargs) -> None:
        self.fill_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"title", "alt_titles"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def provider_id(self):
        """The id its provider knows it by, or None for a title of this catalog's own."""
        return getattr(self, self.provider_id_field)

    @property
    def release_label(self) -> str:
        """Its release status in the kind's words ("Airing"), or "" when unknown."""
        if not self.release_status:
            return ""
        return (
            self.release_labels.get(self.release_status) or ReleaseStatus(self.release_status).label
        )

    @property
    def still_releasing(self) -> bool:
        """Whether its totals may still grow: what the daily refresh looks at."""
        return self.release_status in (ReleaseStatus.RELEASING, ReleaseStatus.HIATUS)

    def get_absolute_url(self) -> str:
        return kind_url("media:item", self.kind_key, self.pk)

    @property
    def dom_id(self) -> str:
        """What the ids of its controls on a page end with: "anime-12"."""
        return f"{self.kind_key}-{self.pk}"

    @property
    def save_url(self) -> str:
        return kind_url("media:save", self.kind_key, self.pk)

    @property
    def track_url(self) -> str:
        return kind_url("media:track", self.kind_key, self.pk)

    parts_label: ClassVar[str] = ""  # what its page calls the parts it lists: "Seasons"

    @property
    def parts(self) -> list[str]:
        """What its page lists under `parts_label` (a show's seasons), in words: none here."""
        return []

    @property
    def fact_texts(self) -> list[str]:
        """Its known facts in words: ["120 chapters", "6 volumes"]."""
        return self.facts_in_words({fact.field: getattr(self, fact.field) for fact in self.facts})

    @classmethod
    def facts_in_words(cls, values) -> list[str]:
        """The kind's facts among `values` (by field name) in words, the unknown ones left out:
        what a title's page says, and what a provider's result for one says."""
        return [
            fact.unit.count(value)
            for fact in cls.facts
            if (value := values.get(fact.field)) is not None
        ]

    def clean(self) -> None:
        """A total may not drop below what someone has already tracked of it."""
        super().clean()
        if self.pk is None:
            return
        errors = {}
        for counter in self.saves.model.counters:
            total = getattr(self, counter.total)
            if total is not None and self.saves.filter(**{f"{counter.field}__gt": total}).exists():
                errors[counter.total] = (
                    f"Someone has tracked more {counter.unit.many} than {total}: "
                    "the total cannot be lower."
                )
        if errors:
            raise ValidationError(errors)

    @property
    def followers(self) -> tuple[str, ...]:
        """Fields whose values this title works out from its others, so that an edit to them
        would be replaced on save (the admin shows them read-only): none here."""
        return ()

    def within_tracked(self, name: str, value, most: dict):
        """What a refresh may set `name` to, given `value` from the provider and the most
        anyone tracked (`SavedItem.tracked_most`): a total that would drop below someone's
        progress stays as it is."""
        if name in most and value < most[name]:
            return getattr(self, name)
        return value

    @classmethod
    def scale_facts(cls, rng: random.Random) -> dict:
        """Made-up facts for the benchmark's scale data; an unknown total now and then."""
        return {
            fact.field: None
            if cls._meta.get_field(fact.field).null and rng.random() < 0.1
            else rng.randint(*fact.scale)
            for fact in cls.facts
        }


class Status(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    ON_HOLD = "on_hold", "On hold"
    DROPPED = "dropped", "Dropped"


STATUS_LABELS = {value: str(label) for value, label in Status.choices}
SCORE_MIN, SCORE_MAX = 1, 10
NOTE_MAX_LENGTH = 500

REWATCHES_MAX = 999

# Checks that repeat what a field's own validators (range, choices, length) or the model's
# clean() already refuse: full_clean need not ask the database about them again.
FIELD_CHECKS = (
    "_score_range",
    "_status_valid",
    "_note_length",
    "_progress_not_negative",
    "_rewatches_range",
    "_dates_in_order",
)


class ScoreOrZero(Func):
    """A save's score, 0 when it has none: the score sort's key. The 0 is written into the SQL,
    not bound, so the query matches the index on this same expression (a prepared statement's
    generic plan could not match a bound parameter)."""

    template = "COALESCE(%(expressions)s, 0)"
    output_field = models.IntegerField()


def catalog_constraints(kind: str, provider_id_field: str) -> list[models.BaseConstraint]:
    """A catalog table's constraint: a title of the catalog's own is entered once per title
    and year (a remake is another); a provider's title is one row per provider id (its
    field's own unique constraint), whatever its name, since providers list namesakes."""
    return [
        models.UniqueConstraint(
            fields=["title", "year"],
            condition=Q(**{f"{provider_id_field}__isnull": True}),
            name=f"uniq_{kind}_title_year",
        )
    ]


def catalog_indexes(kind: str) -> list[models.Index]:
    """A catalog table's indexes: "newest first" (home) and title order (the lists)."""
    return [
        models.Index(fields=["-year", "title"], name=f"{kind}_newest"),
        models.Index(fields=["title", "year", "id"], name=f"{kind}_title"),
    ]


def tmdb_id_field() -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        "TMDB id", null=True, blank=True, unique=True, help_text="Empty for a local title."
    )


def imdb_id_field() -> models.CharField:
    return models.CharField(
        "IMDb id",
        max_length=12,
        null=True,
        blank=True,
        unique=True,
        validators=[RegexValidator(r"^tt\d{7,10}$", "An IMDb id looks like tt0137523.")],
    )


def mal_id_field() -> models.PositiveIntegerField:
    return models.PositiveIntegerField(
        "MyAnimeList id", null=True, blank=True, unique=True, help_text="Empty for a local title."
    )


def saved_constraints(kind: str, item_field: str) -> list[models.BaseConstraint]:
    """The constraints every saved table carries, named after its kind."""
    return [
        models.UniqueConstraint(fields=["user", item_field], name=f"uniq_user_{kind}"),
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
        models.CheckConstraint(
            condition=Q(rewatches__gte=0, rewatches__lte=REWATCHES_MAX),
            name=f"saved_{kind}_rewatches_range",
        ),
    ]


def dates_constraint(kind: str) -> models.CheckConstraint:
    """A kind with `StartedFinished` dates: finished on or after the day it was started."""
    return models.CheckConstraint(
        condition=Q(started__isnull=True)
        | Q(finished__isnull=True)
        | Q(finished__gte=F("started")),
        name=f"saved_{kind}_dates_in_order",
    )


def rewatches_field(done: str, verb: str) -> models.PositiveSmallIntegerField:
    """How many times a person went through a title again: "times rewatched", "times reread"."""
    return models.PositiveSmallIntegerField(
        f"times {done}",
        default=0,
        validators=[MaxValueValidator(REWATCHES_MAX)],
        help_text=f"How many times you {verb} it again after the first time.",
    )


def saved_indexes(kind: str) -> list[models.Index]:
    """The indexes every saved table carries: one per dashboard sort, each led by the person."""
    return [
        models.Index(fields=["user", "-created", "-id"], name=f"saved_{kind}_user_newest"),
        models.Index(fields=["user", "-updated", "-id"], name=f"saved_{kind}_user_updated"),
        models.Index(fields=["user", "item_title", "id"], name=f"saved_{kind}_user_title"),
        models.Index(F("user"), ScoreOrZero("score"), F("id"), name=f"saved_{kind}_user_score"),
    ]


class SavedItem(models.Model):
    """What every saved table has besides its user, its item and its own progress.

    A kind's `counters` name its progress fields and the totals that bound them; `progress`
    and `total` read the first as numbers (for the bar), `mark_complete()` sets every one to
    its end. Progress past the item's total is refused by database triggers too, since a
    CHECK cannot see the item (`media.triggers`).
    """

    item_field: ClassVar[str]  # the foreign key to the catalog item
    counters: ClassVar[tuple[Counter, ...]] = ()
    progress_field: ClassVar[str]  # what `progress` reads: the first counter's, unless set
    tracking_fields: ClassVar[list[str]]  # what the person edits, in form order
    panel_template: ClassVar[str] = "media/panels/counters.html"  # its tracking panel
    rewatch_word: ClassVar[str] = "rewatched"  # "reread" for what is read; as `rewatches` says
    # Database guards beyond the counters' (`media.triggers`): (progress field, the item's
    # total field) pairs, and (season field, episode field, the item's seasons field) for a
    # kind whose progress is an episode of a season.
    bounds: ClassVar[tuple[tuple[str, str], ...]] = ()
    per_season: ClassVar[tuple[str, str, str] | None] = None

    # When it was saved: now, or the date an imported list gives (not auto_now_add, which
    # would overwrite it).
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    score = models.PositiveSmallIntegerField(
        "score (1–10)",
        null=True,
        blank=True,
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
        help_text=f"{SCORE_MIN} to {SCORE_MAX}, or empty.",
    )
    note = models.CharField(
        "private note",
        max_length=NOTE_MAX_LENGTH,
        blank=True,
        help_text=f"Only you see it. Up to {NOTE_MAX_LENGTH} characters.",
    )
    rewatches = rewatches_field("rewatched", "watched")
    # A copy of the item's title, kept by triggers, so the title sort reads this table's index.
    item_title = models.CharField(max_length=200, editable=False, default="")

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.counters and "progress_field" not in cls.__dict__:
            cls.progress_field = cls.counters[0].field

    def __str__(self) -> str:
        return f"{self.user} saved {self.item}"

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

    @property
    def progress(self) -> int:
        return getattr(self, self.progress_field)

    @property
    def total(self) -> int | None:
        return getattr(self.item, self.counters[0].total)

    def progress_of(self, values: dict):
        """The progress that tracking `values` (a form's, by field name) would give."""
        return values.get(self.progress_field)

    @classmethod
    def progress_fields(cls) -> tuple[str, ...]:
        """The fields that say how far the person got, which go with the status (an import
        keeps or takes them together): the counters'."""
        return tuple(counter.field for counter in cls.counters)

    @classmethod
    def file_progress(
        cls, item: CatalogItem, progress: dict, completed: bool
    ) -> tuple[dict, list[str]]:
        """A list file's progress (by field name, as an import's row holds it) as this model's
        values for `item`: what the file does not give is left out, what passes the item's
        totals is capped, and `completed` moves it to the end. (values, a note per cap)"""
        values, notes = {}, []
        for counter in cls.counters:
            number, total = progress.get(counter.field), getattr(item, counter.total)
            if number is None:
                continue
            if total is not None and number > total:
                notes.append(
                    f"{counter.unit.many.capitalize()} capped at {total}, the "
                    f"{item._meta.verbose_name}'s total (the file says {number})."
                )
                number = total
            values[counter.field] = number
        if completed:  # what mark_complete() sets
            for counter in cls.counters:
                if (total := getattr(item, counter.total)) is not None:
                    values[counter.field] = total
        return values, notes

    @classmethod
    def tracked_most(cls, item: CatalogItem) -> dict:
        """For each total of `item`, the most progress anyone has tracked against it."""
        if not cls.counters:
            return {}
        found = cls.objects.filter(**{cls.item_field: item}).aggregate(
            **{counter.total: models.Max(counter.field) for counter in cls.counters}
        )
        return {total: most for total, most in found.items() if most is not None}

    @property
    def at_end(self) -> bool:
        return bool(self.total) and self.progress >= self.total

    @property
    def counter_states(self) -> list[CounterState]:
        """Each counter with its progress and its total, as the tracking panel shows them."""
        return [
            CounterState(counter, getattr(self, counter.field), getattr(self.item, counter.total))
            for counter in self.counters
        ]

    @property
    def progress_summary(self) -> str:
        """The progress in a sentence, for the live region: "12 of 26 episodes"."""
        counter = self.counters[0]
        total, progress = self.total, self.progress
        shown = f"{progress} of {total}" if total else str(progress)
        return f"{shown} {counter.unit.word(total or progress)}"

    @property
    def status_label(self) -> str:
        """The status in words: "In progress" (a lookup, where get_status_display() builds a
        dict of the choices on every call)."""
        return STATUS_LABELS[self.status]

    @property
    def rewatch_text(self) -> str:
        """How many times it was gone through again, in words ("" for none): "reread once",
        "rewatched 3 times"."""
        times = self.rewatches
        if not times:
            return ""
        return f"{self.rewatch_word} {'once' if times == 1 else f'{times} times'}"

    @property
    def shown_dates(self) -> list[tuple[str, date]]:
        """The days the panel shows beside the progress, as (word, day), those that are set:
        none here; a kind with `StartedFinished` shows its own."""
        return []

    @property
    def progress_spoken(self) -> str:
        """The progress as a screen reader should say it: `progress_summary`, unless a kind
        abbreviates it."""
        return self.progress_summary

    @property
    def summary(self) -> str:
        """What the tracking panel shows, read out after an edit."""
        return f"{self.item.title}: {self.progress_spoken}, {self.status_label.lower()}"

    def at_end_message(self) -> str:
        """Why a status other than completed is refused at the end, and what to do instead."""
        counter, total = self.counters[0], self.total
        return (
            f"{self.item.title} is at {total} of {counter.unit.count(total)}, which is "
            f"completed: lower the {counter.unit.many} to give it another status."
        )

    def clean(self) -> None:
        """Progress may not pass the item's total (the triggers' rule, said kindly)."""
        super().clean()
        if getattr(self, f"{self.item_field}_id") is None:
            return
        item, errors = self.item, {}
        for counter in self.counters:
            total, value = getattr(item, counter.total), getattr(self, counter.field)
            if total is not None and value is not None and value > total:
                errors[counter.field] = (
                    f"{item.title} has {counter.unit.count(total)}: "
                    f"enter a number from 0 to {total}."
                )
        if errors:
            raise ValidationError(errors)

    def mark_complete(self) -> None:
        for counter in self.counters:
            total = getattr(self.item, counter.total)
            if total is not None:
                setattr(self, counter.field, total)

    def reconcile(self, changed) -> None:
        """Keep status and progress in step; the one place this rule lives.

        Marking it completed moves progress to the end (when the total is known). Otherwise
        a change of progress sets the status: reaching the total completes it, moving back
        from the end reopens it, and starting something planned puts it in progress.
        """
        changed = set(changed)
        if "status" in changed and self.status == Status.COMPLETED:
            self.mark_complete()
        elif self.progress_field in changed:
            if self.at_end:
                self.status = Status.COMPLETED
            elif self.status == Status.COMPLETED:
                self.status = Status.IN_PROGRESS if self.progress else Status.PLANNED
            elif self.status == Status.PLANNED and self.progress:
                self.status = Status.IN_PROGRESS

    @classmethod
    def scale_tracking(cls, item: CatalogItem, rng: random.Random, when: datetime) -> dict:
        """Made-up tracking for the benchmark's scale data that agrees with its status, as
        the site would leave it."""
        status = rng.choices(Status.values, weights=(40, 25, 25, 5, 5))[0]
        values: dict = {"status": status, "score": rng.choice((None, None, *range(1, 11)))}
        for counter in cls.counters:
            total = getattr(item, counter.total)
            if status == Status.PLANNED:
                values[counter.field] = 0
            elif status == Status.COMPLETED and total is not None:
                values[counter.field] = total
            else:
                values[counter.field] = rng.randint(1, max(1, (total or 500) - 1))
        first_total = getattr(item, cls.counters[0].total) if cls.counters else 1
        if status == Status.COMPLETED and first_total is None:
            values["status"] = Status.IN_PROGRESS  # no known end: it cannot be completed yet
        return values


class StartedFinished(models.Model):
    """The days a person started and finished a title: what a kind tracked over weeks (anime,
    manga) adds to its saved model, listed before `SavedItem` in its bases, with
    `dates_constraint(kind)` among its constraints and both fields in its `tracking_fields`."""

    started = models.DateField("started", null=True, blank=True)
    finished = models.DateField("finished", null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def shown_dates(self) -> list[tuple[str, date]]:
        return [(name, day) for name in ("started", "finished") if (day := getattr(self, name))]

    def clean(self) -> None:
        """No day in the future, and not finished before it was started (the database's
        check, said kindly), with the errors of the other fields."""
        errors: dict = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        today = timezone.localdate()
        for name in ("started", "finished"):
            day = getattr(self, name)
            if day is not None and day > today:
                errors.setdefault(name, []).append("That date is in the future.")
        started, finished = self.started, self.finished
        if (
            started
            and finished
            and finished < started
            and not {"started", "finished"} & set(errors)
        ):
            errors["finished"] = [
                f"It was started on {calendar_day(started)}: "
                "it cannot be finished before it was started."
            ]
        if errors:
            raise ValidationError(errors)


def user_field(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the unique constraint's index starts with user
        related_name=related_name,
    )


# Movies: a watched switch, with the date it was watched.

MINUTES = Unit("min", "min")


class Movie(CatalogItem):
    kind_key = "movie"
    facts = (Fact("runtime_minutes", MINUTES, (70, 190)),)
    provider_id_field = "tmdb_id"
    external_id_fields = ("tmdb_id", "imdb_id")
    release_labels = {"finished": "Released", "upcoming": "Not released yet"}

    runtime_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Running time in minutes."
    )
    tmdb_id = tmdb_id_field()
    imdb_id = imdb_id_field()

    class Meta(CatalogItem.Meta):
        constraints = catalog_constraints("movie", "tmdb_id")
        indexes = catalog_indexes("movie")


class SavedMovie(SavedItem):
    item_field = "movie"
    progress_field = "watched"
    tracking_fields = ["watched", "watched_on", "status", "score", "rewatches", "note"]
    panel_template = "media/panels/watched.html"

    user = user_field("saved_movies")
    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="saves")
    watched = models.BooleanField("watched", default=False)
    watched_on = models.DateField("watched on", null=True, blank=True)

    class Meta:
        constraints = [
            *saved_constraints("movie", "movie"),
            models.CheckConstraint(
                condition=Q(watched=True) | Q(watched_on__isnull=True),
                name="saved_movie_watched_on_needs_watched",
            ),
        ]
        indexes = saved_indexes("movie")

    @property
    def progress(self) -> int:
        return int(self.watched)

    @property
    def total(self) -> int:
        return 1

    @property
    def progress_summary(self) -> str:
        return "watched" if self.watched else "not watched"

    def at_end_message(self) -> str:
        return f"{self.item.title} is marked watched: uncheck Watched to give it another status."

    def clean(self) -> None:
        super().clean()
        if not self.watched:
            self.watched_on = None  # unchecking "Watched" drops its date too
        elif self.watched_on and self.watched_on > timezone.localdate():
            raise ValidationError({"watched_on": "That date is in the future."})

    def mark_complete(self) -> None:
        self.watched = True

    @classmethod
    def progress_fields(cls) -> tuple[str, ...]:
        return ("watched", "watched_on")

    @classmethod
    def file_progress(
        cls, item: CatalogItem, progress: dict, completed: bool
    ) -> tuple[dict, list[str]]:
        """Watched when the file says so or says completed, with its date if it gives one."""
        if not (progress.get("watched") or completed):
            return {}, []
        values = {"watched": True}
        if progress.get("watched_on") is not None:
            values["watched_on"] = progress["watched_on"]
        return values, []

    def reconcile(self, changed) -> None:
        super().reconcile(changed)
        if not self.watched:
            self.watched_on = None
        elif self.watched_on is None:
            self.watched_on = timezone.localdate()

    @classmethod
    def scale_tracking(cls, item: CatalogItem, rng: random.Random, when: datetime) -> dict:
        values = super().scale_tracking(item, rng, when)
        watched = values["status"] == Status.COMPLETED
        return values | {"watched": watched, "watched_on": when.date() if watched else None}


# Anime: episodes watched.

EPISODES = Unit("episode", "episodes")


class Anime(CatalogItem):
    kind_key = "anime"
    facts = (Fact("episodes", EPISODES, (1, 150)),)
    provider_id_field = "mal_id"
    external_id_fields = ("mal_id",)
    release_labels = {
        "finished": "Finished airing",
        "releasing": "Airing",
        "upcoming": "Not yet aired",
    }

    episodes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Total episodes; empty while unknown."
    )
    mal_id = mal_id_field()

    class Meta(CatalogItem.Meta):
        verbose_name_plural = "anime"
        constraints = catalog_constraints("anime", "mal_id")
        indexes = catalog_indexes("anime")


class SavedAnime(StartedFinished, SavedItem):
    item_field = "anime"
    counters = (Counter("episode_progress", "episodes", EPISODES),)
    tracking_fields = [
        "episode_progress", "status", "score", "started", "finished", "rewatches", "note"
    ]  # fmt: skip

    user = user_field("saved_anime")
    anime = models.ForeignKey(Anime, on_delete=models.CASCADE, related_name="saves")
    episode_progress = models.PositiveIntegerField("episodes watched", default=0)

    class Meta:
        verbose_name_plural = "saved anime"
        constraints = [
            *saved_constraints("anime", "anime"),
            models.CheckConstraint(
                condition=Q(episode_progress__gte=0), name="saved_anime_progress_not_negative"
            ),
            dates_constraint("anime"),
        ]
        indexes = saved_indexes("anime")


# Manga: chapters read, and volumes read.

CHAPTERS = Unit("chapter", "chapters")
VOLUMES = Unit("volume", "volumes")


class Manga(CatalogItem):
    kind_key = "manga"
    facts = (Fact("chapters", CHAPTERS, (20, 400)), Fact("volumes", VOLUMES, (2, 40)))
    provider_id_field = "mal_id"
    external_id_fields = ("mal_id",)
    release_labels = {"releasing": "Publishing", "upcoming": "Not yet published"}

    chapters = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Total chapters; empty while unknown."
    )
    volumes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Total volumes; empty while unknown."
    )
    mal_id = mal_id_field()

    class Meta(CatalogItem.Meta):
        verbose_name_plural = "manga"
        constraints = catalog_constraints("manga", "mal_id")
        indexes = catalog_indexes("manga")


class SavedManga(StartedFinished, SavedItem):
    item_field = "manga"
    counters = (
        Counter("chapter_progress", "chapters", CHAPTERS),
        Counter("volume_progress", "volumes", VOLUMES),
    )
    tracking_fields = [
        "chapter_progress", "volume_progress", "status", "score",
        "started", "finished", "rewatches", "note",
    ]  # fmt: skip
    rewatch_word = "reread"

    user = user_field("saved_manga")
    manga = models.ForeignKey(Manga, on_delete=models.CASCADE, related_name="saves")
    chapter_progress = models.PositiveIntegerField("chapters read", default=0)
    volume_progress = models.PositiveIntegerField("volumes read", default=0)
    rewatches = rewatches_field("reread", "read")

    class Meta:
        verbose_name_plural = "saved manga"
        constraints = [
            *saved_constraints("manga", "manga"),
            models.CheckConstraint(
                condition=Q(chapter_progress__gte=0, volume_progress__gte=0),
                name="saved_manga_progress_not_negative",
            ),
            dates_constraint("manga"),
        ]
        indexes = saved_indexes("manga")


# TV shows: seasons of episodes; progress is a season and an episode in it.

SEASONS = Unit("season", "seasons")
SPECIALS = 0  # the season number providers give specials, kept apart from the count
COUNT_MAX = 32767  # a PositiveSmallIntegerField's ceiling


def validate_seasons(value) -> None:
    """A show's seasons: a list of {"number": N, "episodes": M}, each number once."""
    message = 'Enter a list of seasons, such as [{"number": 1, "episodes": 10}].'
    if not isinstance(value, list):
        raise ValidationError(message)
    numbers = set()
    for season in value:
        if (
            not isinstance(season, dict)
            or set(season) != {"number", "episodes"}
            or not all(
                isinstance(season[key], int) and not isinstance(season[key], bool) for key in season
            )
            or not 0 <= season["number"] <= COUNT_MAX
            or not 0 <= season["episodes"] <= COUNT_MAX
        ):
            raise ValidationError(message)
        if season["number"] in numbers:
            raise ValidationError(f"Season {season['number']} is listed twice.")
        numbers.add(season["number"])


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Show(CatalogItem):
    kind_key = "show"
    facts = (Fact("season_count", SEASONS, (1, 10)), Fact("episodes", EPISODES, (6, 200)))
    provider_id_field = "tmdb_id"
    external_id_fields = ("tmdb_id", "imdb_id")
    release_labels = {
        "finished": "Ended",
        "releasing": "Returning series",
        "upcoming": "Not yet aired",
    }

    seasons = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_seasons],
        help_text='Each season and its episodes, as a JSON list: [{"number": 1, "episodes": 10}]'
        "; season 0 holds the specials. The two totals follow it.",
    )
    season_count = models.PositiveSmallIntegerField(
        "seasons",
        null=True,
        blank=True,
        help_text="Regular seasons (specials are not one); empty while unknown.",
    )
    episodes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Episodes of the regular seasons; empty while unknown."
    )
    tmdb_id = tmdb_id_field()
    imdb_id = imdb_id_field()

    class Meta(CatalogItem.Meta):
        verbose_name = "TV show"
        constraints = catalog_constraints("show", "tmdb_id")
        indexes = catalog_indexes("show")

    @property
    def regular_seasons(self) -> list[tuple[int, int]]:
        """(number, episodes) of each regular season, in order: specials left out."""
        seasons = self.seasons if isinstance(self.seasons, list) else []
        return sorted(
            (season["number"], season["episodes"])
            for season in seasons
            if isinstance(season, dict)
            and _whole(season.get("number"))
            and _whole(season.get("episodes"))
            and season["number"] != SPECIALS
        )

    parts_label = "Seasons"

    @property
    def parts(self) -> list[str]:
        """Each season and its episodes, then the specials: "Season 1: 7 episodes"."""
        found = [
            f"Season {number}: {EPISODES.count(episodes)}"
            for number, episodes in self.regular_seasons
        ]
        if self.specials:
            found.append(f"Specials: {self.specials} (not counted in the episodes)")
        return found

    @property
    def specials(self) -> int | None:
        """How many specials it has (season 0), None when it lists none."""
        for season in self.seasons if isinstance(self.seasons, list) else []:
            if isinstance(season, dict) and season.get("number") == SPECIALS:
                return season.get("episodes")
        return None

    def episodes_in(self, number: int) -> int | None:
        """The episodes of season `number`, None while unknown."""
        return dict(self.regular_seasons).get(number)

    def episodes_before(self, number: int) -> int:
        """The episodes of the regular seasons before season `number`."""
        return sum(episodes for season, episodes in self.regular_seasons if season < number)

    @property
    def followers(self) -> tuple[str, ...]:
        """The two totals, while the seasons are listed (`fill_totals`)."""
        return ("season_count", "episodes") if self.regular_seasons else ()

    def fill_totals(self) -> None:
        """The season count and the episodes, from the seasons when they are known."""
        regular = self.regular_seasons
        if regular:
            self.season_count = regular[-1][0]
            episodes = sum(episodes for _, episodes in regular)
            self.episodes = episodes if 0 < episodes <= COUNT_MAX else None  # else: unknown

    def clean(self) -> None:
        """The totals follow the seasons, and no season someone is in goes, or drops below
        the episode they are at."""
        try:
            validate_seasons(self.seasons)
        except ValidationError:
            return  # the field's own validation says what is wrong with it
        self.fill_totals()
        super().clean()
        if self.pk is None:
            return
        errors, listed = [], dict(self.regular_seasons)
        for season, most in self.saves.model.most_per_season(self).items():
            episodes = listed.get(season, 0 if listed else None)
            if episodes is None:
                continue  # no seasons known: nothing to hold it to
            if season not in listed:
                errors.append(f"Someone is in season {season}: it cannot be taken out.")
            elif episodes < most:
                errors.append(
                    f"Someone has tracked {EPISODES.count(most)} of season {season}: "
                    f"it cannot have fewer."
                )
        if errors:
            raise ValidationError({"seasons": errors})

    def save(self, *args, **kwargs) -> None:
        self.fill_totals()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "seasons" in update_fields:
            kwargs["update_fields"] = {*update_fields, "season_count", "episodes"}
        super().save(*args, **kwargs)

    def within_tracked(self, name: str, value, most: dict):
        """A refresh's `value` for `name`, kept within what people tracked: a season that
        shrank below someone's progress keeps its count (the rest of the news is taken)."""
        if name != "seasons" or not isinstance(value, list):
            return super().within_tracked(name, value, most)
        tracked, known = most.get("seasons", {}), dict(self.regular_seasons)
        kept = []
        for season in value:
            number = season.get("number") if isinstance(season, dict) else None
            episodes = season.get("episodes") if isinstance(season, dict) else None
            if isinstance(episodes, int) and episodes < tracked.get(number, 0):
                # Below someone's progress: the season keeps the count it had.
                season = {**season, "episodes": max(known.get(number, 0), tracked[number])}
            kept.append(season)
        listed = {season.get("number") for season in kept if isinstance(season, dict)}
        for number in sorted(tracked):
            if number not in listed:  # a season someone is in stays, with what it had
                kept.append(
                    {"number": number, "episodes": max(known.get(number, 0), tracked[number])}
                )
        return sorted(kept, key=lambda season: season.get("number", 0))

    @classmethod
    def scale_facts(cls, rng: random.Random) -> dict:
        if rng.random() < 0.1:
            return {"seasons": [], "season_count": None, "episodes": None}
        seasons = [
            {"number": number, "episodes": rng.randint(6, 24)}
            for number in range(1, rng.randint(1, 8) + 1)
        ]
        if rng.random() < 0.2:
            seasons.insert(0, {"number": SPECIALS, "episodes": rng.randint(1, 5)})
        regular = [season["episodes"] for season in seasons if season["number"] != SPECIALS]
        return {"seasons": seasons, "season_count": len(regular), "episodes": sum(regular)}


class SavedShow(StartedFinished, SavedItem):
    """A show's progress is the last episode watched, as a season and an episode in it:
    season 0 with episode 0 is "not started" (specials are not on the way through)."""

    item_field = "show"
    progress_field = "episode_progress"
    bounds = (("season_progress", "season_count"),)
    per_season = ("season_progress", "episode_progress", "seasons")
    panel_template = "media/panels/seasons.html"
    tracking_fields = [
        "season_progress", "episode_progress", "status", "score",
        "started", "finished", "rewatches", "note",
    ]  # fmt: skip

    user = user_field("saved_shows")
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="saves")
    season_progress = models.PositiveSmallIntegerField(
        "season", default=0, help_text="The season of the last episode watched; 0 before any."
    )
    episode_progress = models.PositiveSmallIntegerField(
        "episode", default=0, help_text="The last episode watched in that season."
    )

    class Meta:
        verbose_name = "saved TV show"
        constraints = [
            *saved_constraints("show", "show"),
            models.CheckConstraint(
                condition=Q(season_progress__gt=0) | Q(episode_progress=0),
                name="saved_show_episode_needs_season",
            ),
            dates_constraint("show"),
        ]
        indexes = saved_indexes("show")

    @classmethod
    def most_per_season(cls, show: Show) -> dict[int, int]:
        """For each season of `show`, the furthest episode anyone has tracked in it."""
        found = (
            cls.objects.filter(show=show, season_progress__gt=0)
            .values("season_progress")
            .annotate(most=models.Max("episode_progress"))
        )
        return {row["season_progress"]: row["most"] for row in found}

    @classmethod
    def tracked_most(cls, item: Show) -> dict:
        """The furthest episode tracked in each season, and the furthest season (one query)."""
        per_season = cls.most_per_season(item)
        return {"seasons": per_season} | ({"season_count": max(per_season)} if per_season else {})

    @property
    def position(self) -> tuple[int, int]:
        return self.season_progress, self.episode_progress

    @property
    def progress(self) -> int:
        """Episodes watched in all: the seasons before this one, and this one's so far."""
        return self.watched_at(self.season_progress, self.episode_progress)

    def watched_at(self, season: int, episode: int) -> int:
        if not season:
            return 0
        return self.show.episodes_before(season) + episode

    def progress_of(self, values: dict) -> int | None:
        season, episode = values.get("season_progress"), values.get("episode_progress")
        if season is None or episode is None:
            return None
        return self.watched_at(int(season), int(episode))

    @property
    def total(self) -> int | None:
        return self.show.episodes

    @property
    def shown_season(self) -> int:
        """The season the panel names: the first regular one before anything is watched."""
        if self.season_progress:
            return self.season_progress
        regular = self.show.regular_seasons
        return regular[0][0] if regular else 1

    def _place(self) -> tuple[int, int, str]:
        """The season the panel names, the episode, and " of N" (its season's episodes)."""
        season = self.shown_season
        episodes = self.show.episodes_in(season)
        return season, self.episode_progress, f" of {episodes}" if episodes is not None else ""

    @property
    def progress_summary(self) -> str:
        """ "S2 · E5 of 10": the season, the episode, and that season's episodes."""
        season, episode, of = self._place()
        return f"S{season} · E{episode}{of}"

    @property
    def progress_spoken(self) -> str:
        """ "season 2, episode 5 of 10": what "S2 · E5 of 10" says, for a screen reader."""
        season, episode, of = self._place()
        return f"season {season}, episode {episode}{of}"

    @property
    def whole_show_text(self) -> str:
        """How far through the whole show: "12 / 62 episodes" ("" while its total is unknown)."""
        total = self.total
        return f"{self.progress} / {total} {EPISODES.word(total)}" if total else ""

    @property
    def next_position(self) -> tuple[int, int] | None:
        """Where +1 goes: the next episode, or the first of the next season that has any
        once this one is done; None at the end."""
        season, episode = self.position
        regular = self.show.regular_seasons
        if season:
            episodes = self.show.episodes_in(season)
            if episodes is None or episode < episodes:
                return season, episode + 1
        later = [number for number, episodes in regular if number > season and episodes]
        if later:
            return later[0], 1
        if not regular and not season:
            return 1, 1  # seasons unknown yet: start the first
        return None

    def at_end_message(self) -> str:
        return (
            f"{self.item.title} is at its last episode ({self.progress_summary}), which is "
            "completed: go back an episode to give it another status."
        )

    def clean(self) -> None:
        """The season must be one of the show's, the episode within that season's."""
        errors: dict = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        progress_errors = errors.keys() & {"season_progress", "episode_progress"}
        if self.show_id is not None and not progress_errors:
            show, season, episode = self.show, self.season_progress, self.episode_progress
            if season == 0 and episode:
                errors["season_progress"] = ["Choose the season of that episode."]
            elif show.season_count is not None and season > show.season_count:
                errors["season_progress"] = [
                    f"{show.title} has {SEASONS.count(show.season_count)}: "
                    f"enter a season from 1 to {show.season_count}."
                ]
            elif season and show.regular_seasons and show.episodes_in(season) is None:
                numbers = ", ".join(str(number) for number, _ in show.regular_seasons)
                errors["season_progress"] = [
                    f"Season {season} is not one of {show.title}'s: enter one of {numbers}."
                ]
            elif (
                season
                and (episodes := show.episodes_in(season)) is not None
                and (episode > episodes)
            ):
                errors["episode_progress"] = [
                    f"Season {season} of {show.title} has {EPISODES.count(episodes)}: "
                    f"enter a number from 0 to {episodes}."
                ]
        if errors:
            raise ValidationError(errors)

    def mark_complete(self) -> None:
        done = [(number, episodes) for number, episodes in self.show.regular_seasons if episodes]
        if done:
            self.season_progress, self.episode_progress = done[-1]

    @classmethod
    def progress_fields(cls) -> tuple[str, ...]:
        return ("season_progress", "episode_progress")

    @classmethod
    def file_progress(cls, item: Show, progress: dict, completed: bool) -> tuple[dict, list[str]]:
        """A position, its season and its episode (both, or it is left out), within the
        show's seasons: past its last season is its last episode, past a season's episodes
        is that season's last."""
        values, notes = {}, []
        season, episode = progress.get("season_progress"), progress.get("episode_progress")
        if (season is None) != (episode is None):
            notes.append("The file gives a season or an episode, not both: left out.")
        elif season is not None:
            if season == SPECIALS and episode:
                notes.append(
                    f"Season {SPECIALS} holds the specials, which are not on the way through: "
                    f"its episode {episode} is left out (not started)."
                )
                episode = 0
            last, listed = item.season_count, dict(item.regular_seasons)
            if last is not None and season > last:
                # Its last episode: the last season that has any (one may be announced only).
                done = [(number, count) for number, count in listed.items() if count]
                end = max(done) if done else (0, 0)
                notes.append(
                    f"Capped at season {end[0]}, episode {end[1]}, the {item._meta.verbose_name}"
                    f"'s last (the file says season {season}, episode {episode})."
                )
                season, episode = end
            elif season and listed and season not in listed:
                notes.append(
                    f"Season {season} is not one of the {item._meta.verbose_name}'s "
                    f"({', '.join(map(str, listed))}): the position is left out."
                )
                season = None
            if season and (episodes := item.episodes_in(season)) is not None and episode > episodes:
                notes.append(
                    f"Episode capped at {episodes}, season {season}'s episodes "
                    f"(the file says {episode})."
                )
                episode = episodes
            if season is not None:
                values = {"season_progress": season, "episode_progress": episode}
        if completed:
            done = cls(show=item)
            done.mark_complete()
            if done.season_progress:
                values = {
                    "season_progress": done.season_progress,
                    "episode_progress": done.episode_progress,
                }
        return values, notes

    def reconcile(self, changed) -> None:
        changed = set(changed)
        if "season_progress" in changed:
            changed.add(self.progress_field)  # a season moved is progress moved
        super().reconcile(changed)

    @classmethod
    def scale_tracking(cls, item: CatalogItem, rng: random.Random, when: datetime) -> dict:
        status = rng.choices(Status.values, weights=(40, 25, 25, 5, 5))[0]
        values: dict = {"status": status, "score": rng.choice((None, None, *range(1, 11)))}
        regular = [(n, e) for n, e in item.regular_seasons if e]
        if status == Status.PLANNED:
            position = (0, 0)
        elif status == Status.COMPLETED and regular:
            position = regular[-1]
        elif regular:
            season, episodes = rng.choice(regular)
            position = (season, rng.randint(1, episodes))
            if position == regular[-1]:
                position = (season, episodes - 1) if episodes > 1 else (0, 0)
        else:
            position = (1, rng.randint(1, 12))
            if status == Status.COMPLETED:
                values["status"] = Status.IN_PROGRESS  # no known end: it cannot be completed
        if position == (0, 0) and values["status"] != Status.PLANNED:
            values["status"] = Status.PLANNED
        values["season_progress"], values["episode_progress"] = position
        return values


# Beside the saved tables.


class SavedCount(models.Model):
    """How many saves of one kind a person has in one status: the dashboard's counts.

    Database triggers on the saved tables keep it (`media.triggers`), whatever the path of
    the write (the site, the admin, a cascade), so the counts cost one indexed read instead
    of a scan of the person's saves.
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


class RemovedSave(models.Model):
    """A save its person removed, kept for a while so that Undo can put it back exactly as it
    was (`media.services.unsave_item` and `restore_item`).

    `data` holds every column of the removed row. Restoring deletes
    the tombstone in the same transaction, so replaying an Undo finds nothing to do. Old ones
    are purged as the same person removes others.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the index below starts with user
        related_name="+",
    )
    kind = models.CharField(max_length=12)  # the kinds registry's key
    item_id = models.BigIntegerField()
    data = models.JSONField()  # the removed row's columns, as the database returned them
    removed = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The expired ones, by age; and a title's latest removal, found without reading
            # the person's others (or, on PostgreSQL, the dead rows repeated presses leave).
            models.Index(fields=["user", "removed"], name="removed_save_user_removed"),
            models.Index(fields=["user", "kind", "item_id"], name="removed_save_user_item"),
        ]

    def __str__(self) -> str:
        return f"{self.user} removed {self.kind} {self.item_id} at {self.removed}"


class ProviderThrottle(models.Model):
    """When a provider was last asked, shared by every process (`media.providers.throttle`):
    one row per provider, locked while a process takes a slot, so the web processes and the
    worker together keep within the provider's rate limit."""

    provider = models.CharField(max_length=20, primary_key=True)
    calls = models.JSONField(default=list)  # the times (epoch seconds) of recent requests

    def __str__(self) -> str:
        return f"{self.provider}: {len(self.calls)} recent requests"


class Import(models.Model):
    """One upload of a person's list, from preview to result (`media.importing`).

    `rows` holds the file's entries as parsed (and, once matched, the catalog title each
    matches) while the import is open; it is emptied when the import ends (imported, failed,
    cancelled or abandoned), so nothing of the upload outlives it but the counts in
    `summary`. A person has at most one open import at a time: the constraint decides
    between two uploads sent at once.
    """

    class State(models.TextChoices):
        MATCHING = "matching", "Matching"
        READY = "ready", "Ready to import"
        APPLYING = "applying", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (State.MATCHING, State.READY, State.APPLYING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # the index below starts with user
        related_name="imports",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    filename = models.CharField(max_length=200)
    format_label = models.CharField(max_length=100)  # "MyAnimeList anime list"
    state = models.CharField(max_length=10, choices=State.choices, default=State.MATCHING)
    rows = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)  # rows to match
    matched = models.PositiveIntegerField(default=0)  # rows looked at so far
    summary = models.JSONField(default=dict, blank=True)  # what it did, by section
    error = models.TextField(blank=True)  # why it failed, for the person

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state__in=["matching", "ready", "applying"]),
                name="one_open_import_per_person",
            )
        ]
        indexes = [
            models.Index(fields=["user", "-created"], name="import_user_newest"),
            models.Index(fields=["state", "updated"], name="import_state_updated"),  # stale ones
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.filename} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN

    @property
    def percent(self) -> int:
        return int(100 * self.matched / self.total) if self.total else 100
