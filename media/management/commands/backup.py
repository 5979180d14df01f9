"""`manage.py backup PATH`: a consistent copy of Shelf's database, taken while the site runs.

SQLite is copied with its online backup API into one self-contained file; PostgreSQL is dumped
with `pg_dump --format=custom` (or, without pg_dump here, the command to run is printed).
PATH may be a folder: the backup is then named after the database and the time.
`manage.py restore` puts one back.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from media.backup import BackupError, pg_backup, sqlite_backup


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database to PATH (a file, or a folder to name it in) "
        "while the site runs: SQLite's online backup, or pg_dump on PostgreSQL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the backup file to write, or a folder to write it in")
        parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="the database alias (default: default)"
        )

    def handle(self, *args, **options) -> None:
        connection = connections[options["database"]]
        vendor = connection.vendor
        target = Path(options["path"]).expanduser()
        if target.is_dir():
            suffix = ".sqlite3" if vendor == "sqlite" else ".dump"
            target = target / f"shelf-{datetime.now():%Y%m%d-%H%M%S}{suffix}"
        try:
            if vendor == "sqlite":
                sqlite_backup(
                    Path(connection.settings_dict["NAME"]), target, force=options["force"]
                )
            elif vendor == "postgresql":
                pg_backup(connection.settings_dict, target, force=options["force"])
            else:
                raise BackupError(f"Backups of a {vendor} database are not supported.")
        except BackupError as error:
            raise CommandError(str(error)) from None
        size = target.stat().st_size
        self.stdout.write(f"Backed up the database to {target} ({size / 1024 / 1024:.1f} MB).")
