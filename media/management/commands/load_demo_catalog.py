"""Load the demo catalog that ships with Shelf (media/demo_catalog.json).

Idempotent: entries are matched on (title, year); missing ones are created, changed
ones updated, and a second run reports everything unchanged. All or nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from media.kinds import KINDS

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "demo_catalog.json"
# The file's section for each kind.
SECTIONS = {"movie": "movies", "anime": "anime", "manga": "manga"}


class Command(BaseCommand):
    help = "Load (or refresh) the demo catalog of movies, anime and manga."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DEFAULT_PATH, help="catalog JSON file")

    def handle(self, *args, file: Path, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the catalog {file}: {error}") from error
        if not isinstance(data, dict):
            raise CommandError(f"{file}: expected an object with movies, anime and manga.")

        try:
            with transaction.atomic():
                for key, section in SECTIONS.items():
                    created, updated, unchanged = self.load_kind(KINDS[key], data.get(section, []))
                    self.stdout.write(
                        f"{KINDS[key].plural}: {created} created, {updated} updated, "
                        f"{unchanged} unchanged"
                    )
        except IntegrityError as error:
            raise CommandError(f"Nothing was loaded: the database refused it ({error}).") from error

    def load_kind(self, kind, entries) -> tuple[int, int, int]:
        model = kind.item_model
        fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
        existing = {(item.title, item.year): item for item in model.objects.all()}
        to_create, to_update, unchanged = [], [], 0
        seen = set()
        for position, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict) or set(entry) - set(fields):
                raise CommandError(
                    f"{kind.plural} entry {position}: expected an object with fields {fields}."
                )
            candidate = model(**entry)
            try:
                candidate.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise CommandError(f"{kind.plural} entry {position}: {error.messages}") from error
            natural_key = (candidate.title, candidate.year)
            if natural_key in seen:
                raise CommandError(
                    f"{kind.plural} entry {position}: {natural_key} is listed twice."
                )
            seen.add(natural_key)
            current = existing.get(natural_key)
            if current is None:
                to_create.append(candidate)
            elif any(getattr(current, f) != getattr(candidate, f) for f in fields):
                for f in fields:
                    setattr(current, f, getattr(candidate, f))
                to_update.append(current)
            else:
                unchanged += 1
        model.objects.bulk_create(to_create)
        model.objects.bulk_update(to_update, fields)
        return len(to_create), len(to_update), unchanged
