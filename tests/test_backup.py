"""`manage.py backup` and `manage.py restore`: a consistent copy while the site writes, and the
copy put back. SQLite's tests write through a second connection as another process would;
PostgreSQL's run pg_dump and pg_restore for real."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from media.backup import integrity, pg_dump_command, pg_restore_command, shown
from media.kinds import KINDS
from tests.conftest import demo_item

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's backup API")

ANIME = KINDS["anime"]


def database_file() -> Path:
    return Path(connection.settings_dict["NAME"])


def saved_anime(user, item) -> bool:
    return ANIME.saved_model.objects.filter(user=user, anime=item).exists()


def table_rows(path: Path, table: str) -> int:
    copy = sqlite3.connect(path)
    try:
        return copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        copy.close()


@sqlite_only
def test_backup_under_an_open_write_transaction_has_only_committed_rows(
    transactional_db, user, tmp_path
):
    committed = demo_item(ANIME)
    ANIME.saved_model.objects.create(user=user, anime=committed)
    writer = sqlite3.connect(database_file(), timeout=20, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock for the whole backup
        writer.execute("INSERT INTO auth_group (name) VALUES ('Uncommitted')")
        target = tmp_path / "shelf.sqlite3"
        call_command("backup", str(target))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert integrity(target) == "ok"
    copy = sqlite3.connect(target)
    titles = {row[0] for row in copy.execute("SELECT title FROM media_anime")}
    groups = copy.execute("SELECT count(*) FROM auth_group").fetchone()[0]
    saves = copy.execute("SELECT count(*) FROM media_savedanime").fetchone()[0]
    mode = copy.execute("PRAGMA journal_mode").fetchone()[0]
    copy.close()
    assert titles == {committed.title}
    assert saves == 1
    assert groups == 0  # the open transaction's row is not in the copy
    assert mode == "delete"  # one file, no log beside it
    assert not (tmp_path / "shelf.sqlite3-wal").exists()


@sqlite_only
def test_backup_while_another_connection_keeps_writing_is_consistent(
    transactional_db, user, tmp_path
):
    stop, written = threading.Event(), []

    def keep_writing() -> None:
        writer = sqlite3.connect(database_file(), timeout=20, isolation_level=None)
        number = 0
        while not stop.is_set():
            number += 1
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO auth_group (name) VALUES (?)", [f"Row {number}"])
            writer.execute("COMMIT")
            written.append(number)
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(written) < 50 and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # until the writer is well under way
        assert len(written) >= 50, "the writer thread stopped or never started"
        before = len(written)
        call_command("backup", str(tmp_path / "b.sqlite3"), stdout=None)
        after = len(written)
    finally:
        stop.set()
        thread.join()
    assert integrity(tmp_path / "b.sqlite3") == "ok"
    # The copy is one moment of the writes: every row up to some point, none missing in between.
    copy = sqlite3.connect(tmp_path / "b.sqlite3")
    numbers = sorted(
        int(name.split()[1]) for (name,) in copy.execute("SELECT name FROM auth_group")
    )
    copy.close()
    assert before <= len(numbers) <= after
    assert numbers == list(range(1, len(numbers) + 1))


@sqlite_only
def test_restore_brings_back_a_deleted_save(transactional_db, user, tmp_path, capsys):
    item = demo_item(ANIME)
    ANIME.saved_model.objects.create(user=user, anime=item, episode_progress=7)
    call_command("backup", str(tmp_path / "before.sqlite3"))
    ANIME.saved_model.objects.filter(user=user).delete()
    assert not saved_anime(user, item)

    current = tmp_path / "current.sqlite3"
    call_command("restore", str(tmp_path / "before.sqlite3"), "--yes", "--current-to", current)

    restored = ANIME.saved_model.objects.get(user=user, anime=item)
    assert restored.episode_progress == 7
    assert table_rows(current, "media_savedanime") == 0  # the state replaced is kept
    assert "Restored" in capsys.readouterr().out


@sqlite_only
def test_restore_without_yes_changes_nothing(transactional_db, user, tmp_path):
    item = demo_item(ANIME)
    call_command("backup", str(tmp_path / "empty.sqlite3"))
    ANIME.saved_model.objects.create(user=user, anime=item)
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "empty.sqlite3"))
    assert saved_anime(user, item)


@sqlite_only
def test_restore_refuses_a_file_that_is_not_a_shelf_database(transactional_db, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    with pytest.raises(CommandError, match="not a SQLite database"):
        call_command("restore", str(text), "--yes", "--current-to", tmp_path / "c")
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(CommandError, match="not one of Shelf's"):
        call_command("restore", str(other), "--yes", "--current-to", tmp_path / "d")
    dump = tmp_path / "shelf.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    with pytest.raises(CommandError, match="a PostgreSQL dump"):
        call_command("restore", str(dump), "--yes", "--current-to", tmp_path / "e")


def test_restore_of_a_missing_file_says_so(db, tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        call_command("restore", str(tmp_path / "nothing.sqlite3"), "--yes")


def test_backup_to_a_path_that_cannot_be_written_says_so(db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", str(blocker / "backup.sqlite3"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", str(tmp_path / "no" / "such" / "folder" / "b"))


@sqlite_only
def test_backup_keeps_an_existing_file_unless_forced(transactional_db, tmp_path):
    target = tmp_path / "b.sqlite3"
    target.write_text("an older backup")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(target))
    assert target.read_text() == "an older backup"
    call_command("backup", str(target), "--force")
    assert integrity(target) == "ok"


@sqlite_only
def test_backup_into_a_folder_names_the_file(transactional_db, tmp_path, capsys):
    call_command("backup", str(tmp_path))
    (written,) = tmp_path.glob("shelf-*.sqlite3")
    assert integrity(written) == "ok"
    assert str(written) in capsys.readouterr().out
    assert not list(tmp_path.glob(".*partial"))


def test_postgresql_commands_keep_the_password_out_of_the_arguments(tmp_path):
    settings_dict = {
        "NAME": "shelf",
        "USER": "shelf",
        "PASSWORD": "s3cret pass",
        "HOST": "db.internal",
        "PORT": 5433,
    }
    command, env = pg_dump_command(settings_dict, tmp_path / "x.dump")
    assert command[:2] == ["pg_dump", "--format=custom"]
    assert "--host=db.internal" in command and "--port=5433" in command
    assert "--username=shelf" in command and "--dbname=shelf" in command
    assert not any("s3cret" in part for part in command)
    assert env == {"PGPASSWORD": "s3cret pass"}
    restore, _ = pg_restore_command(settings_dict, tmp_path / "x.dump")
    assert {"--clean", "--if-exists", "--single-transaction"} <= set(restore)
    assert "s3cret" not in shown(restore, env)


def test_without_pg_dump_the_command_to_run_is_printed(tmp_path, monkeypatch):
    from media import backup

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    settings_dict = {"NAME": "shelf", "USER": "postgres", "PASSWORD": "pw", "HOST": "127.0.0.1"}
    with pytest.raises(backup.BackupError) as error:
        backup.pg_backup(settings_dict, tmp_path / "x.dump")
    message = str(error.value)
    assert "pg_dump is not installed" in message
    assert "PGPASSWORD=… pg_dump --format=custom" in message
    assert "pw" not in message.replace("PGPASSWORD", "")
    assert not (tmp_path / "x.dump").exists()


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore")
def test_postgresql_backup_and_restore_round_trip(transactional_db, user, tmp_path):
    item = demo_item(ANIME)
    ANIME.saved_model.objects.create(user=user, anime=item, episode_progress=5)
    target = tmp_path / "shelf.dump"
    call_command("backup", str(target))
    assert target.read_bytes().startswith(b"PGDMP")
    ANIME.saved_model.objects.filter(user=user).delete()

    call_command("restore", str(target), "--yes")

    connection.close()  # the restore replaced the tables this connection knew
    assert ANIME.saved_model.objects.get(user=user, anime=item).episode_progress == 5


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore")
def test_postgresql_backup_restores_into_a_scratch_database(transactional_db, user, tmp_path):
    import psycopg

    from media.backup import pg_backup
    from media.backup import pg_restore as restore_into

    item = demo_item(ANIME)
    ANIME.saved_model.objects.create(user=user, anime=item, episode_progress=3)
    pg_backup(connection.settings_dict, tmp_path / "shelf.dump")
    scratch = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_restore"}
    params = {k: connection.settings_dict[k] for k in ("HOST", "PORT", "USER", "PASSWORD")}
    admin = {
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{scratch["NAME"]}"')
        server.execute(f'CREATE DATABASE "{scratch["NAME"]}"')
    try:
        restore_into(scratch, tmp_path / "shelf.dump")
        with psycopg.connect(**(admin | {"dbname": scratch["NAME"]})) as copy:
            progress = copy.execute(
                "SELECT episode_progress FROM media_savedanime WHERE user_id = %s", [user.pk]
            ).fetchall()
    finally:
        with psycopg.connect(**admin) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{scratch["NAME"]}"')
    assert progress == [(3,)]
