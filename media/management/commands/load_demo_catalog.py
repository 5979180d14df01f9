"""Add the demo catalog that ships with Shelf: each kind's titles in media/demo/<key>.json.

It adds what is missing and completes what is there, never more. A title already in the
catalog (the same title and year) keeps every value it has: its totals, synopsis and title
are never touched, whatever the file says, so an admin's corrections and the progress people
track are never undone. Only its empty external ids, alternative titles and release status
are filled in from the file, so an install made before the files had ids gains them:

- an id the row holds already, equal or not to the file's, is kept; a row whose id differs
  from the file's may be another title of the same name, so it is left exactly as it is;
- an id another row already holds is that row's: the row that lacks it takes none of the
  file's ids for that title (they describe one title, which the other row is), and it is
  said so.

A title the catalog holds under another name (a row with one of its ids, added from its
provider) is already there and left as it is. Nothing is ever deleted. Every file is read
and checked before anything is written: one that cannot be read or holds a bad entry is
refused whole, with the entry named. A second run changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.db.models import Q

from media.kinds import KINDS, Kind
from media.models import CatalogItem

# What the file may fill in on a row that has it empty; nothing else of a row is changed.
COMPLETED_FIELDS = ("alt_titles", "release_status")


def _empty(value) -> bool:
    return value in (None, "", [])


class Command(BaseCommand):
    help = (
        "Add the demo catalog's titles of every kind that are not in the catalog yet, and fill"
        " in the empty ids, alternative titles and release status of those that are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", type=Path, help="a folder of <kind>.json files (default: media/demo)"
        )

    def handle(self, *args, dir: Path | None, **options):
        batches = [(kind, self.checked(kind, self.read(kind, dir))) for kind in KINDS.values()]
        with transaction.atomic():
            for kind, candidates in batches:
                added, present, completed = self.load(kind, candidates)
                self.stdout.write(
                    f"{kind.plural}: {added} added, {present} already there, {completed} completed"
                )

    def read(self, kind: Kind, folder: Path | None) -> list:
        path = kind.demo_file if folder is None else folder / kind.demo_file.name
        if not path.exists() and folder is not None:
            return []  # a folder of the tests' own may leave a kind out
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the demo catalog {path}: {error}") from error
        if not isinstance(rows, list):
            raise CommandError(f"{path}: expected a list of {kind.plural_in_text}.")
        return rows

    def checked(self, kind: Kind, entries: list) -> list[CatalogItem]:
        """The file's entries as unsaved rows, each one checked; the first bad one refuses
        the whole file."""
        model = kind.item_model
        fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
        candidates, seen = [], set()
        for position, entry in enumerate(entries, start=1):
            where = f"{kind.plural} entry {position}"
            if not isinstance(entry, dict) or set(entry) - set(fields):
                raise CommandError(f"{where}: expected an object with fields {fields}.")
            names = entry.get("alt_titles", [])
            if not isinstance(names, list) or not all(
                isinstance(name, str) and name.strip() for name in names
            ):
                raise CommandError(f"{where}: alt_titles must be a list of names.")
            candidate = model(**entry)
            try:
                candidate.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise CommandError(f"{where}: {error.messages}") from error
            keys = [(candidate.title, candidate.year)] + [
                (field, value)
                for field in model.external_id_fields
                if not _empty(value := getattr(candidate, field))
            ]
            for key in keys:
                if key in seen:
                    raise CommandError(f"{where}: {key} is listed twice.")
                seen.add(key)
            candidate.fill_search_text()
            candidates.append(candidate)
        return candidates

    def load(self, kind: Kind, candidates: list[CatalogItem]) -> tuple[int, int, int]:
        """Add the missing titles and complete the present ones: (added, present, completed)."""
        model = kind.item_model
        id_fields = model.external_id_fields
        entries = [
            (c, {f: v for f in id_fields if not _empty(v := getattr(c, f))}) for c in candidates
        ]
        wanted = Q(title__in={c.title for c in candidates})
        for field in id_fields:
            if values := [ids[field] for _, ids in entries if field in ids]:
                wanted |= Q(**{f"{field}__in": values})
        rows = list(model.objects.select_for_update().filter(wanted).order_by("pk"))
        namesakes: dict[tuple, list[CatalogItem]] = {}
        holders: dict[tuple, CatalogItem] = {}
        for row in rows:
            namesakes.setdefault((row.title, row.year), []).append(row)
            for field in id_fields:
                if not _empty(value := getattr(row, field)):
                    holders[field, value] = row

        missing, present, completed = [], 0, 0
        for candidate, wanted_ids in entries:
            same_name = namesakes.get((candidate.title, candidate.year))
            if same_name:
                present += 1
                row = self.pick(same_name, wanted_ids)
                completed += self.complete(kind, row, candidate, wanted_ids, holders)
            elif any(key in holders for key in wanted_ids.items()):
                present += 1  # there under another name: its row is its provider's to keep
            else:
                missing.append(candidate)
        # A title someone adds meanwhile is theirs to keep: the conflict is skipped.
        model.objects.bulk_create(missing, ignore_conflicts=True)
        return len(missing), present, completed

    @staticmethod
    def pick(rows: list[CatalogItem], wanted_ids: dict) -> CatalogItem:
        """Of the rows with an entry's title and year, the one that is the entry: one holding
        one of its ids, else one of the catalog's own (no ids), else the first."""
        fields = type(rows[0]).external_id_fields
        return (
            next((r for r in rows if any(getattr(r, f) == v for f, v in wanted_ids.items())), None)
            or next((r for r in rows if all(_empty(getattr(r, f)) for f in fields)), None)
            or rows[0]
        )

    def complete(
        self, kind: Kind, row: CatalogItem, candidate: CatalogItem, wanted_ids: dict, holders
    ) -> bool:
        """Fill `row`'s empty ids, alternative titles and release status from the file's
        `candidate`; whether anything was filled."""
        label = {f: row._meta.get_field(f).verbose_name for f in row.external_id_fields}
        for field, value in wanted_ids.items():
            own = getattr(row, field)
            if not _empty(own) and own != value:
                self.stdout.write(
                    f"{kind.plural}: {row} keeps its {label[field]} {own} (the file says"
                    f" {value}), and is left as it is."
                )
                return False
        taken = {
            field: holder
            for field, value in wanted_ids.items()
            if (holder := holders.get((field, value))) is not None and holder.pk != row.pk
        }
        for field, holder in taken.items():
            self.stdout.write(
                f"{kind.plural}: {row} is left without {label[field]} {wanted_ids[field]}:"
                f" {holder} (pk {holder.pk}) has it."
            )
        changed = []
        for field, value in wanted_ids.items():
            # A title another row holds by one id is that row: it takes none of the others.
            if not taken and _empty(getattr(row, field)):
                setattr(row, field, value)
                changed.append(field)
        for field in COMPLETED_FIELDS:
            if _empty(getattr(row, field)) and not _empty(value := getattr(candidate, field)):
                setattr(row, field, value)
                changed.append(field)
        if not changed:
            return False
        try:
            with transaction.atomic():
                row.save(update_fields=changed)  # with its search text when its names change
        except IntegrityError:
            # Another row took one of these ids meanwhile: it is theirs to keep.
            self.stdout.write(f"{kind.plural}: {row}'s ids were taken meanwhile: left as it is.")
            return False
        for field in changed:
            if field in wanted_ids:
                holders[field, wanted_ids[field]] = row
        return True
