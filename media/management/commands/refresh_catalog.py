"""Refresh the catalog now, in the foreground: what the worker's daily refresh does.

Reads again from their providers the titles that may have news (still releasing, not read
for a day), or with --all every title that has a provider id; a progress bar on stderr.
Titles that fail are counted and logged; they stay due, and the command still succeeds.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from media.kinds import KINDS
from media.tasks import refresh_titles, summary_lines


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class ProgressBar:
    """A textual bar that redraws itself on a terminal; elsewhere (a log, a pipe) a line
    at the start, every `every` seconds, and at the end."""

    width = 30

    def __init__(self, out, every: float = 10.0) -> None:
        self.out, self.every = out, every
        self.tty = out.isatty()
        self.last = 0.0

    def __call__(self, kind, done: int, total: int) -> None:
        if self.tty:
            filled = self.width * done // total if total else self.width
            bar = "#" * filled + "-" * (self.width - filled)
            self.write(f"\r{kind.plural:<8} [{bar}] {done}/{total}", end=done >= total)
            return
        now = time.monotonic()
        if done == 0 or done >= total or now - self.last >= self.every:
            self.last = now
            self.write(f"{kind.plural}: {done}/{total} titles", end=True)

    def write(self, text: str, *, end: bool) -> None:
        self.out.write(text, style_func=lambda s: s, ending="\n" if end else "")
        self.out.flush()


class Command(BaseCommand):
    help = (
        "Read the catalog's titles again from their providers now, as the worker's daily "
        "refresh does: the due ones (still releasing, not read for a day), or --all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            action="append",
            dest="kinds",
            metavar="KIND",
            help=f"only this kind ({', '.join(KINDS)}); repeat it for several",
        )
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="every title with a provider id, not only the due ones",
        )
        parser.add_argument(
            "--limit", type=positive, metavar="N", help="at most N titles of each kind"
        )

    def handle(self, *args, kinds, everything, limit, **options):
        unknown = [key for key in kinds or () if key not in KINDS]
        if unknown:
            raise CommandError(
                f"Unknown kind {', '.join(map(repr, unknown))}: choose from {', '.join(KINDS)}."
            )
        chosen = [KINDS[key] for key in dict.fromkeys(kinds)] if kinds else None
        progress = ProgressBar(self.stderr) if options["verbosity"] > 0 else None
        summary = refresh_titles(chosen, everything=everything, limit=limit, progress=progress)
        for line in summary_lines(summary):
            self.stdout.write(line)
        failed = summary["failed"]
        if failed:
            titles = "title" if failed == 1 else "titles"
            self.stdout.write(
                f"{failed} {titles} failed (see the log above): they stay due for the next refresh."
            )
