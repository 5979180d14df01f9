"""Add the demo catalog that ships with Shelf: each kind's titles in media/demo/<key>.json.

It only adds what is missing. A title already in the catalog (the same title and year) is
left exactly as it is, whatever the file says, so an admin's corrections and the progress
people track are never undone; nothing is ever deleted. A file that cannot be read or holds
a bad entry is refused whole, with the entry named, before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from media.kinds import KINDS, Kind


class Command(BaseCommand):
    help = "Add the demo catalog's titles of every kind that are not in the catalog yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", type=Path, help="a folder of <kind>.json files (default: media/demo)"
        )

    def handle(self, *args, dir: Path | None, **options):
        batches = [(kind, self.read(kind, dir)) for kind in KINDS.values()]
        with transaction.atomic():
            for kind, rows in batches:
                added, present = self.add_missing(kind, rows)
                self.stdout.write(f"{kind.plural}: {added} added, {present} already there")

    def read(self, kind: Kind, folder: Path | None) -> list:
        path = kind.demo_file if folder is None else folder / kind.demo_file.name
        if not path.exists() and folder is not None:
            return []  # a folder of the tests' own may leave a kind out
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the demo catalog {path}: {error}") from error
        if not isinstance(rows, list):
            raise CommandError(f"{path}: expected a list of {kind.plural.lower()}.")
        return rows

    def add_missing(self, kind: Kind, entries: list) -> tuple[int, int]:
        model = kind.item_model
        fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
        candidates, seen = [], set()
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
            candidate.fill_search_text()
            candidates.append(candidate)
        present = {
            key
            for key in model.objects.filter(title__in=[c.title for c in candidates]).values_list(
                "title", "year"
            )
            if key in seen
        }
        missing = [c for c in candidates if (c.title, c.year) not in present]
        # A title someone adds meanwhile is theirs to keep: the conflict is skipped.
        model.objects.bulk_create(missing, ignore_conflicts=True)
        return len(missing), len(present)
