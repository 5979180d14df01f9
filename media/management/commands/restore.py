"""`manage.py restore PATH --yes`: put a backup made by `manage.py backup` back in place.

It replaces everything in the database with the backup's content, so it asks for --yes, and the
web server and the worker should be stopped first (their next requests would otherwise mix the
two). On SQLite the current database is first copied beside itself (`--current-to` chooses
where), so a restore of the wrong file can be undone; on PostgreSQL `pg_restore` runs in one
transaction, so a failed restore changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from media.backup import BackupError, kind_of_file, pg_restore, sqlite_backup, sqlite_restore


class Command(BaseCommand):
    help = (
        "Replace the database's content with a backup from `manage.py backup`. Stop the web "
        "server and the worker first; --yes confirms."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the backup file")
        parser.add_argument("--yes", action="store_true", help="replace the database's content")
        parser.add_argument(
            "--current-to",
            metavar="FILE",
            help="SQLite: where to keep the current database first "
            "(default: beside it, named with the time)",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the database alias")

    def handle(self, *args, **options) -> None:
        connection = connections[options["database"]]
        vendor = connection.vendor
        backup = Path(options["path"]).expanduser()
        name = connection.settings_dict["NAME"]
        try:
            kind_of_file(backup)  # a missing or unreadable file is said before anything else
            if not options["yes"]:
                raise BackupError(
                    f"This replaces everything in the database {name} with {backup}. Stop the "
                    "web server and the worker (Ctrl-C on make run), then run this again with "
                    "--yes."
                )
            connection.close()  # this process holds nothing open during the restore
            if vendor == "sqlite":
                database = Path(name)
                current = Path(
                    options["current_to"]
                    or database.with_name(
                        f"{database.name}.before-restore-{datetime.now():%Y%m%d-%H%M%S}"
                    )
                )
                if database.is_file():
                    sqlite_backup(database, current)
                    self.stdout.write(f"The current database was kept as {current}.")
                sqlite_restore(backup, database)
            elif vendor == "postgresql":
                pg_restore(connection.settings_dict, backup)
            else:
                raise BackupError(f"Restoring a {vendor} database is not supported.")
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored {name} from {backup}. Run `manage.py migrate` if the backup is older "
            "than this version of Shelf, then start the site."
        )
