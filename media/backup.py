"""Backups of Shelf's database, taken while the site runs, and their restore.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page under one read
transaction, so the copy is the database as of one moment, with what the write-ahead log holds
and without what an open transaction has not committed; writers go on meanwhile. A restore
writes the backup into the live file through the same API, so SQLite's own locks and log are
respected (copying a file over a database in WAL mode would replay a stale log onto it).

PostgreSQL: `pg_dump --format=custom` (itself one consistent snapshot) and `pg_restore --clean
--if-exists --single-transaction`, with the connection's settings as arguments and its password
in the environment, never in the command line.

The commands `manage.py backup` and `manage.py restore` call these; every failure a person can
cause (a path that cannot be written, a missing or foreign file) is a `BackupError` with one
sentence saying what to do.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is for the person."""


def kind_of_file(path: Path) -> str:
    """ "sqlite", "postgresql" (a pg_dump custom archive) or "unknown", from the first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise BackupError(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not a backup file.") from None
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from None
    if head == SQLITE_HEADER:
        return "sqlite"
    if head.startswith(PG_CUSTOM_HEADER):
        return "postgresql"
    return "unknown"


def partial_path(target: Path) -> Path:
    """Where a backup is written before it is complete; renamed onto `target` at the end, so
    a backup that fails halfway never leaves a file that looks whole."""
    return target.with_name(f".{target.name}.partial")


def _writable_target(target: Path, *, force: bool) -> None:
    if target.exists() and not force:
        raise BackupError(f"{target} exists already: choose another name, or pass --force.")
    folder = target.parent
    if not folder.is_dir():
        raise BackupError(f"Cannot write {target}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise BackupError(f"Cannot write {target}: the folder {folder} is not writable.")


def integrity(path: Path) -> str:
    """SQLite's own check of a database file: "ok", or what it found."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as error:
        return str(error)
    finally:
        connection.close()
    return "; ".join(row[0] for row in rows)


def sqlite_backup(source: Path, target: Path, *, force: bool = False) -> None:
    """Copy the live SQLite database `source` to `target` as of one moment, in one file."""
    if not source.is_file():
        raise BackupError(f"The database {source} does not exist: there is nothing to back up.")
    _writable_target(target, force=force)
    partial = partial_path(target)
    partial.unlink(missing_ok=True)
    try:
        live = sqlite3.connect(source, timeout=20)
        copy = sqlite3.connect(partial)
        try:
            live.backup(copy)  # every page in one step: one read transaction, one moment
            # The copy stands alone: no write-ahead log beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            live.close()
        found = integrity(partial)
        if found != "ok":
            raise BackupError(f"The copy failed SQLite's integrity check ({found}); retry.")
        partial.replace(target)
    except sqlite3.Error as error:
        raise BackupError(f"The backup failed: {error}.") from None
    except OSError as error:
        raise BackupError(f"Cannot write {target}: {error.strerror}.") from None
    finally:
        partial.unlink(missing_ok=True)


def sqlite_restore(backup: Path, database: Path) -> None:
    """Replace the content of the SQLite database `database` with the backup's."""
    kind = kind_of_file(backup)
    if kind != "sqlite":
        what = "a PostgreSQL dump" if kind == "postgresql" else "not a SQLite database"
        raise BackupError(f"{backup} is {what}, and this site's database is SQLite.")
    found = integrity(backup)
    if found != "ok":
        raise BackupError(f"{backup} fails SQLite's integrity check ({found}): not restored.")
    source = sqlite3.connect(backup)
    try:
        tables = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
        if "django_migrations" not in tables:
            raise BackupError(f"{backup} is a SQLite database, but not one of Shelf's.")
        live = sqlite3.connect(database, timeout=20)
        try:
            source.backup(live)
        finally:
            live.close()
    except sqlite3.Error as error:
        raise BackupError(f"The restore failed, and the database is as it was: {error}.") from None
    finally:
        source.close()


def pg_arguments(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump and pg_restore, and the environment (the password)."""
    arguments = []
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            arguments.append(f"{option}={settings_dict[key]}")
    arguments.append(f"--dbname={settings_dict['NAME']}")
    env = {"PGPASSWORD": settings_dict["PASSWORD"]} if settings_dict.get("PASSWORD") else {}
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return arguments, env


def pg_dump_command(settings_dict: dict, target: Path) -> tuple[list[str], dict[str, str]]:
    arguments, env = pg_arguments(settings_dict)
    return ["pg_dump", "--format=custom", f"--file={target}", *arguments], env


def pg_restore_command(settings_dict: dict, backup: Path) -> tuple[list[str], dict[str, str]]:
    arguments, env = pg_arguments(settings_dict)
    command = ["pg_restore", "--clean", "--if-exists", "--single-transaction", "--no-owner"]
    return [*command, *arguments, str(backup)], env


def shown(command: list[str], env: dict[str, str]) -> str:
    """The command as a person would type it, the password left for them to fill in."""
    prefix = [f"{name}=…" if name == "PGPASSWORD" else f"{name}={shlex.quote(value)}"
              for name, value in env.items()]  # fmt: skip
    return " ".join([*prefix, *(shlex.quote(part) for part in command)])


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed here (it comes with PostgreSQL's client package, "
            f"of the server's version or newer). Run this where it is:\n  {shown(command, env)}"
        )
    done = subprocess.run(command, env=os.environ | env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")


def pg_backup(settings_dict: dict, target: Path, *, force: bool = False) -> None:
    _writable_target(target, force=force)
    partial = partial_path(target)
    command, env = pg_dump_command(settings_dict, partial)
    try:
        _run(command, env, "pg_dump")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def pg_restore(settings_dict: dict, backup: Path) -> None:
    kind = kind_of_file(backup)
    if kind != "postgresql":
        what = "a SQLite database" if kind == "sqlite" else "not a pg_dump archive"
        raise BackupError(f"{backup} is {what}, and this site's database is PostgreSQL.")
    command, env = pg_restore_command(settings_dict, backup)
    _run(command, env, "pg_restore (nothing was changed: it runs in one transaction)")
