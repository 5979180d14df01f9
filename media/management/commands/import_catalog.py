"""`manage.py import_catalog SOURCE PATH`: load a whole catalog from an open data file.

The person downloads the file (the project never fetches it); SOURCE names its publisher
(`media.catalog_import.SOURCES`), PATH the file (gzipped or not). The load is one
transaction: a bad file is refused with the entry named, and nothing is written. Running it
again with the same file writes nothing; a newer file updates only what changed.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from media.catalog_import import BATCH, SOURCES, BadFile, load
from media.kinds import KINDS


class ProgressLine:
    """Entries read, on stderr: one line redrawn in place on a terminal, a line every ten
    percent (or every ten seconds) otherwise."""

    def __init__(self, stream, label: str) -> None:
        self.stream, self.label = stream, label
        self.tty = stream.isatty()
        self.shown_tenth, self.shown_at, self.started = -1, 0.0, time.monotonic()

    def __call__(self, read: int, fraction: float) -> None:
        now = time.monotonic()
        percent = int(fraction * 100)
        if self.tty:
            bar = "#" * (percent // 4) + "." * (25 - percent // 4)
            end = "\n" if fraction >= 1 else ""
            self.stream.write(
                f"\r  {self.label} [{bar}] {percent:3d}% {read:,} read{end}", ending=""
            )
        elif percent // 10 > self.shown_tenth or now - self.shown_at >= 10 or fraction >= 1:
            self.shown_tenth, self.shown_at = percent // 10, now
            self.stream.write(f"  {self.label}: {percent}% of the file, {read:,} read")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Load a whole catalog from a downloaded open data file; known sources: "
        + ", ".join(SOURCES)
        + ". Adds new titles, updates the ones that changed, never erases what the file "
        "does not know, never lowers a total below tracked progress."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help=f"who published the file: {', '.join(SOURCES)}")
        parser.add_argument("path", type=Path, help="the downloaded file (.json, .jsonl, .gz)")
        parser.add_argument(
            "--batch-size", type=int, default=BATCH, help="entries per look-up and write"
        )

    def handle(self, *args, source: str, path: Path, batch_size: int, **options) -> None:
        if source not in SOURCES:
            raise CommandError(
                f"Unknown source {source!r}: the known sources are {', '.join(SOURCES)}."
            )
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        chosen = SOURCES[source]
        kind = KINDS[chosen.kind_key]
        progress = ProgressLine(self.stderr, kind.plural) if options["verbosity"] else None
        try:
            counts = load(chosen, path, batch_size=batch_size, progress=progress)
        except BadFile as error:
            if progress and progress.tty:
                self.stderr.write("")
            raise CommandError(f"{path} was not loaded, nothing was written: {error}.") from error
        self.stdout.write(counts.summary(kind.plural, chosen.id_name))
