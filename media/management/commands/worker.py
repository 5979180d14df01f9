"""Shelf's worker: runs the slow work queued in the database (django-tasks-db's db_worker).

On start it makes sure the daily catalog refresh is queued (`media.tasks`), then works the
queue until SIGINT or SIGTERM: idle, it stops at once; busy, it finishes the task in hand
first (a second signal stops that too). Every db_worker option applies (--interval,
--queue-name, --max-tasks, --batch, --reload, ...).
"""

from __future__ import annotations

from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import get_date_max

from media.tasks import ensure_daily_refresh, queued_refresh


class Command(db_worker.Command):
    help = (
        "Run Shelf's worker: queue the daily catalog refresh if none is, then run queued "
        "tasks until stopped (SIGINT or SIGTERM)."
    )

    def handle(self, *args, **options):
        ensure_daily_refresh()
        queued = queued_refresh()
        if queued is not None and options["verbosity"] > 0:
            when = (
                "as soon as the worker is free"
                if queued.run_after == get_date_max()
                else f"{queued.run_after:%Y-%m-%d %H:%M %Z}"
            )
            self.stdout.write(f"The next catalog refresh runs {when}.")
        super().handle(*args, **options)
