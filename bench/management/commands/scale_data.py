"""Fill the database with a large, deterministic catalog and collection for benchmarks.

`python manage.py scale_data --seed 1` adds (by default) 60,000 movies, 25,000 anime and
25,000 manga, a person with 100,000 saves across the three kinds and every status, one with
10 saves, and 1,000 people with 100 saves each. The same seed gives the same rows. Every
insert ignores what is already there and the whole run is one transaction, so running it
again (or after an interruption) never duplicates or half-writes anything; when the data is
already complete it returns at once.
"""

from __future__ import annotations

import random
import sys
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from media.kinds import KINDS, Kind
from media.models import SavedItem

BIG_USER = "bench-100k"
SMALL_USER = "bench-10"
CROWD_PREFIX = "bench-"
PASSWORD = "bench-password"  # the benchmark's own database only
BATCH = 5000
DEFAULT_SIZES = {"movie": 60_000, "anime": 25_000, "manga": 25_000}
OTHER_KIND_SIZE = 10_000

ADJECTIVES = (
    "amber ashen autumn azure bitter blue brass broken burning cedar cinder clockwork cobalt "
    "crimson crystal dawn deep distant dusk echo electric ember emerald endless evening faded "
    "falling feather fierce final first floating forgotten frozen galaxy ghost gilded glass "
    "golden granite hidden hollow iron ivory jade last little lone lost lunar marble midnight "
    "mirror misty moonlit neon night northern obsidian paper pale phantom quiet radiant "
    "rain restless river rust salt scarlet secret shadow silent silver sleeping solar spring "
    "starlit steel stone storm summer sunken swift tidal twilight velvet violet wandering "
    "white wild winter wooden"
)
NOUN_TEXT = (
    "academy anthem archive arrow atlas bell blade bloom bridge canyon castle chronicle city "
    "compass crown dream drifter empire engine festival fields forest fortress frontier garden "
    "harbor heart horizon island journey kingdom labyrinth lantern legend letter lighthouse "
    "machine memory meridian mountain oath ocean orchard passage pilgrim planet promise "
    "quarter requiem rider road saga sanctuary season signal sky song sparrow station story "
    "summit tale temple theory tide tower train valley voyage war wind window wolf world"
)
WORDS, NOUNS = ADJECTIVES.split(), NOUN_TEXT.split()


class Progress:
    """A one-line progress bar on stderr: label, bar, percentage and count."""

    def __init__(self, label: str, total: int, stream=sys.stderr) -> None:
        self.label, self.total, self.done, self.shown = label, max(total, 1), 0, -1
        self.stream = stream

    def advance(self, count: int) -> None:
        self.done += count
        percent = self.done * 100 // self.total
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4) + "." * (25 - percent // 4)
            end = "\n" if self.done >= self.total else ""
            self.stream.write(
                f"\r  {self.label:<22} [{bar}] {percent:3d}% {self.done:,}/{self.total:,}{end}"
            )
            self.stream.flush()


@contextmanager
def keeping_timestamps(*models):
    """Let bulk inserts keep the `created`/`updated` values we set instead of now()."""
    fields = [
        field
        for model in models
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    saved = [(field, field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def title_for(rng: random.Random, number: int) -> str:
    words = rng.sample(WORDS, 2)
    return f"{words[0].title()} {words[1].title()} {rng.choice(NOUNS).title()} {number}"


class Command(BaseCommand):
    help = "Fill the database with scale data for benchmarks (deterministic; safe to rerun)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--size", action="append", default=[], metavar="KIND=N",
            help=f"titles of a kind (repeatable); default {DEFAULT_SIZES}, "
            f"{OTHER_KIND_SIZE:,} for any other kind",
        )  # fmt: skip
        parser.add_argument("--big-saves", type=int, default=100_000)
        parser.add_argument("--small-saves", type=int, default=10)
        parser.add_argument("--crowd", type=int, default=1_000, help="people with --crowd-saves")
        parser.add_argument("--crowd-saves", type=int, default=100)

    def handle(self, *args, **options) -> None:
        sizes = {key: DEFAULT_SIZES.get(key, OTHER_KIND_SIZE) for key in KINDS}
        for size in options["size"]:
            key, _, number = size.partition("=")
            if key not in KINDS or not number.isdigit():
                raise CommandError(
                    f"--size {size}: expected KIND=N with KIND one of {list(KINDS)}."
                )
            sizes[key] = int(number)
        if options["big_saves"] > sum(sizes.values()):
            raise CommandError("--big-saves cannot exceed the catalog size: one save per item.")
        if self.complete(sizes, options):
            self.stdout.write("Scale data already present: nothing to do.")
            return
        rng = random.Random(options["seed"])
        stream = sys.stderr
        with transaction.atomic(), keeping_timestamps(*(k.saved_model for k in KINDS.values())):
            items = {
                kind.key: self.fill_catalog(kind, sizes[kind.key], rng, stream)
                for kind in KINDS.values()
            }
            big, small, crowd = self.make_people(options["crowd"])
            now = timezone.now()
            self.fill_saves(
                "saves of " + BIG_USER, [big], options["big_saves"], items, rng, now, stream
            )
            self.fill_saves(
                "saves of " + SMALL_USER, [small], options["small_saves"], items, rng, now, stream
            )
            self.fill_saves(
                f"saves of {len(crowd):,} people",
                crowd,
                options["crowd_saves"],
                items,
                rng,
                now,
                stream,
            )
        with connection.cursor() as cursor:
            # Fresh statistics (and, on PostgreSQL, a visibility map for index-only scans),
            # so the planner sees the tables as they now are.
            vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")  # VACUUM needs autocommit
        self.stdout.write(self.style.SUCCESS("Scale data ready."))

    def complete(self, sizes: dict[str, int], options) -> bool:
        users = get_user_model().objects.filter(username__startswith=CROWD_PREFIX)
        if users.count() != options["crowd"] + 2:
            return False
        big = users.filter(username=BIG_USER).first()
        if big is None:
            return False
        saved = sum(kind.saved_model.objects.filter(user=big).count() for kind in KINDS.values())
        return saved >= options["big_saves"] and all(
            kind.item_model.objects.count() >= sizes[kind.key] for kind in KINDS.values()
        )

    def fill_catalog(self, kind: Kind, size: int, rng: random.Random, stream) -> list:
        """Insert `size` items of `kind` (ignoring titles already there); return their rows."""
        progress = Progress(kind.plural_in_text, size, stream)
        for start in range(0, size, BATCH):
            batch = [
                kind.item_model(
                    title=title_for(rng, number),
                    year=rng.randint(1950, 2026),
                    synopsis="",
                    **kind.item_model.scale_facts(rng),
                )
                for number in range(start + 1, min(start + BATCH, size) + 1)
            ]
            for item in batch:
                item.fill_search_text()  # what save() does, and bulk_create skips
            kind.item_model.objects.bulk_create(batch, ignore_conflicts=True)
            progress.advance(len(batch))
        # What scale_tracking reads: the facts and what goes with them (a show's seasons).
        return list(kind.item_model.objects.defer("synopsis", "search_text").order_by("id"))

    def make_people(self, crowd: int):
        User = get_user_model()
        password = make_password(PASSWORD)  # hashed once: every bench account shares it
        names = [BIG_USER, SMALL_USER, *(f"{CROWD_PREFIX}{n:04d}" for n in range(1, crowd + 1))]
        User.objects.bulk_create(
            [User(username=name, password=password) for name in names], ignore_conflicts=True
        )
        people = {user.username: user for user in User.objects.filter(username__in=names)}
        return people[BIG_USER], people[SMALL_USER], [people[name] for name in names[2:]]

    def fill_saves(self, label, users, count, items, rng, now, stream) -> None:
        """Give each of `users` `count` saves of distinct items, spread over kinds and time."""
        pool = [(kind, item) for kind in KINDS.values() for item in items[kind.key]]
        progress = Progress(label, count * len(users), stream)
        pending: dict[str, list[SavedItem]] = {key: [] for key in KINDS}
        for user in users:
            # Newest first: one save every few minutes going back in time, kinds interleaved.
            for position, (kind, item) in enumerate(rng.sample(pool, count)):
                created = now - timedelta(seconds=position * 173 + rng.randint(0, 170))
                updated = created + timedelta(seconds=rng.randint(0, 86_400))
                pending[kind.key].append(
                    kind.saved_model(
                        user=user,
                        item_title=item.title,  # what the triggers would copy
                        created=created,
                        updated=min(updated, now),
                        **{kind.item_field: item},
                        **kind.saved_model.scale_tracking(item, rng, created),
                    )
                )
                if len(pending[kind.key]) >= BATCH:
                    progress.advance(self.flush(kind, pending))
        for kind in KINDS.values():
            progress.advance(self.flush(kind, pending))

    @staticmethod
    def flush(kind: Kind, pending: dict[str, list[SavedItem]]) -> int:
        rows = pending[kind.key]
        kind.saved_model.objects.bulk_create(rows, ignore_conflicts=True)
        pending[kind.key] = []
        return len(rows)
