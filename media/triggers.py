"""The database rules of a kind, generated from one description of its tables.

Some rules cannot be said by Django's constraints and indexes, so each kind gets them here:

- progress guards: a saved row's progress may not pass its item's total, and a total may not
  drop below progress already tracked (a CHECK cannot read another table);
- status counts: `media_savedcount` follows every insert, delete and status change of a saved
  table, so the dashboard reads its counts instead of counting;
- the title copy: a saved row keeps its item's title (`item_title`), so the dashboard's title
  sort walks the saved table's own index;
- search index: what finds a catalog title by any part of its normalised names
  (`search_text`) without reading the whole table: a trigram index on PostgreSQL, an FTS5
  table with the trigram tokenizer on SQLite, kept by triggers.

Migrations call these with the names spelled out (`KindTables`), so a migration keeps doing
what it did when it was written; a new kind's migration calls the same functions
(`operations`). A migration that makes Django rebuild a kind's table on SQLite (which drops
its triggers) removes the rules first and installs them again last (`dropped`, `operation`).
SQLite and PostgreSQL each get their own dialect; `expected_objects` names what must exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations

PERSON_COUNTS = "media_savedcount"


@dataclass(frozen=True)
class KindTables:
    """The table and column names a kind's rules need."""

    kind: str  # the registry's key, as stored in media_savedcount.kind
    saved_table: str  # "media_savedanime"
    item_table: str  # "media_anime"
    item_column: str  # the saved table's foreign key to the item: "anime_id"
    bounds: tuple[tuple[str, str], ...] = ()  # (progress column, the item's total column)
    # (season column, episode column, the item's seasons column: a JSON list of
    # {"number": N, "episodes": M}) for a kind whose progress is an episode of a season
    per_season: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def of(cls, kind) -> KindTables:
        """The names of a registered kind as its models are now (to write a migration, or to
        check a live database against)."""
        saved, item = kind.saved_model._meta, kind.item_model._meta
        return cls(
            kind=kind.key,
            saved_table=saved.db_table,
            item_table=item.db_table,
            item_column=saved.get_field(kind.item_field).column,
            bounds=tuple(
                (saved.get_field(progress).column, item.get_field(total).column)
                for progress, total in [
                    *((c.field, c.total) for c in kind.saved_model.counters),
                    *kind.saved_model.bounds,
                ]
            ),
            per_season=tuple(
                (
                    saved.get_field(season).column,
                    saved.get_field(episode).column,
                    item.get_field(seasons).column,
                )
                for season, episode, seasons in filter(None, [kind.saved_model.per_season])
            ),
        )


def _postgresql_trigger(schema_editor, name, table, timing, events, body, when="") -> None:
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nEND $$;"
    )
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    schema_editor.execute(
        f"CREATE TRIGGER {name} {timing} {' OR '.join(events)} ON {table} FOR EACH ROW"
        f"{f' WHEN ({when})' if when else ''} EXECUTE FUNCTION {name}()"
    )


def _drop_postgresql_trigger(schema_editor, name, table) -> None:
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


# Progress guards.


def _locked(vendor: str) -> str:
    """What a saved row's guard adds to its read of the item: on PostgreSQL, a share lock, so
    a refresh lowering a total and an edit raising progress past it take turns instead of
    each passing its check against the other's old state. SQLite has one writer at a time."""
    return " FOR SHARE" if vendor == "postgresql" else ""


def _guards(tables: KindTables, vendor: str):
    """(name, table, events, condition that refuses the row, message, when it is looked at
    on PostgreSQL), two per bound."""
    for column, total in tables.bounds:
        yield (
            f"{tables.saved_table}_{column}_within_total",
            tables.saved_table,
            ["INSERT", "UPDATE"],
            f"NEW.{column} > (SELECT {total} FROM {tables.item_table}"
            f" WHERE id = NEW.{tables.item_column}{_locked(vendor)})",
            f"{column} is past the {tables.item_table}.{total} of the item",
            f"NEW.{column} > 0",  # nothing to check (nor lock) before any progress
        )
        yield (
            f"{tables.item_table}_{total}_covers_progress",
            tables.item_table,
            [f"UPDATE OF {total}"],
            f"NEW.{total} < (SELECT MAX({column}) FROM {tables.saved_table}"
            f" WHERE {tables.item_column} = NEW.id)",
            f"{tables.item_table}.{total} is below progress already tracked in "
            f"{tables.saved_table}",
            "",
        )


def _season_episodes(vendor: str, seasons: str, season: str) -> str:
    """SQL for the episodes of season `season` in the JSON list `seasons`: its count; 0 for a
    season the list lacks while it lists regular seasons; NULL (unknown) while it lists none."""
    if vendor == "postgresql":
        rows = f"jsonb_array_elements({seasons}) AS s"
        number, episodes = "(s.value->>'number')::integer", "(s.value->>'episodes')::integer"
    else:
        rows = f"json_each({seasons}) AS s"
        number, episodes = (
            "json_extract(s.value, '$.number')",
            "json_extract(s.value, '$.episodes')",
        )
    return (
        f"COALESCE((SELECT {episodes} FROM {rows} WHERE {number} = {season} LIMIT 1),"
        f" CASE WHEN EXISTS (SELECT 1 FROM {rows} WHERE {number} > 0) THEN 0 END)"
    )


def _season_guards(tables: KindTables, vendor: str):
    """(name, table, events, condition that refuses the row, message, when it is looked at
    on PostgreSQL), two per season bound: an episode may not pass its season's episodes (a
    season the show does not list has none), and a season's episodes may not drop below an
    episode already tracked in it."""
    saved, item = tables.saved_table, tables.item_table
    for season, episode, seasons in tables.per_season:
        of_item = (
            f"(SELECT {seasons} FROM {item} WHERE id = NEW.{tables.item_column}{_locked(vendor)})"
        )
        yield (
            f"{saved}_{episode}_within_season",
            saved,
            ["INSERT", "UPDATE"],
            f"NEW.{episode} > {_season_episodes(vendor, of_item, f'NEW.{season}')}",
            f"{episode} is past the episodes of its season in {item}.{seasons}",
            f"NEW.{episode} > 0",
        )
        yield (
            f"{item}_{seasons}_cover_progress",
            item,
            [f"UPDATE OF {seasons}"],
            f"EXISTS (SELECT 1 FROM {saved} AS t WHERE t.{tables.item_column} = NEW.id"
            f" AND t.{episode} > {_season_episodes(vendor, f'NEW.{seasons}', f't.{season}')})",
            f"{item}.{seasons} drops a season below an episode already tracked in {saved}",
            "",
        )


def _all_guards(tables: KindTables, vendor: str):
    yield from _guards(tables, vendor)
    yield from _season_guards(tables, vendor)


def _sqlite_name(name: str, event: str) -> str:
    return f"{name}_{event.split()[0].lower()}"


def create_progress_guards(schema_editor, tables: KindTables) -> None:
    vendor = schema_editor.connection.vendor
    for name, table, events, refused, message, when in _all_guards(tables, vendor):
        if vendor == "postgresql":
            body = (
                f"IF {refused} THEN\n"
                f"  RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';\n"
                "END IF;\nRETURN NEW;"
            )
            _postgresql_trigger(schema_editor, name, table, "BEFORE", events, body, when)
        elif vendor == "sqlite":
            for event in events:
                schema_editor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {_sqlite_name(name, event)} BEFORE {event}"
                    f" ON {table} WHEN {refused} BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )


def drop_progress_guards(schema_editor, tables: KindTables) -> None:
    vendor = schema_editor.connection.vendor
    for name, table, events, *_ in _all_guards(tables, vendor):
        if vendor == "postgresql":
            _drop_postgresql_trigger(schema_editor, name, table)
        elif vendor == "sqlite":
            for event in events:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {_sqlite_name(name, event)}")


# Status counts.


def _count_add(kind: str) -> str:
    return (
        f"INSERT INTO {PERSON_COUNTS} (user_id, kind, status, saves)"
        f" VALUES (NEW.user_id, '{kind}', NEW.status, 1) ON CONFLICT (user_id, kind, status)"
        f" DO UPDATE SET saves = {PERSON_COUNTS}.saves + 1;"
    )


def _count_remove(kind: str) -> str:
    return (
        f"UPDATE {PERSON_COUNTS} SET saves = saves - 1"
        f" WHERE user_id = OLD.user_id AND kind = '{kind}' AND status = OLD.status;"
    )


def create_status_counts(schema_editor, tables: KindTables) -> None:
    """Count what the table holds now, then keep counting as it changes."""
    table, kind = tables.saved_table, tables.kind
    schema_editor.execute(f"DELETE FROM {PERSON_COUNTS} WHERE kind = '{kind}'")
    schema_editor.execute(
        f"INSERT INTO {PERSON_COUNTS} (user_id, kind, status, saves)"
        f" SELECT user_id, '{kind}', status, COUNT(*) FROM {table} GROUP BY user_id, status"
    )
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # Both rows a status change touches are locked in status order, so two concurrent
        # changes of the same person's saves cannot deadlock.
        body = (
            f"IF TG_OP = 'INSERT' THEN {_count_add(kind)}\n"
            f"ELSIF TG_OP = 'DELETE' THEN {_count_remove(kind)}\n"
            f"ELSIF OLD.status < NEW.status THEN {_count_remove(kind)} {_count_add(kind)}\n"
            f"ELSE {_count_add(kind)} {_count_remove(kind)}\n"
            "END IF;\nRETURN NULL;"
        )
        name = f"{table}_count"
        _postgresql_trigger(schema_editor, name, table, "AFTER", ["INSERT", "DELETE"], body)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_count_move ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_count_move AFTER UPDATE OF status, user_id ON {table}"
            " FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status"
            f" OR OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION {name}()"
        )
    elif vendor == "sqlite":
        for event, when, body in (
            ("INSERT", "", _count_add(kind)),
            ("DELETE", "", _count_remove(kind)),
            (
                "UPDATE OF status, user_id",
                " WHEN OLD.status IS NOT NEW.status OR OLD.user_id IS NOT NEW.user_id",
                f"{_count_remove(kind)} {_count_add(kind)}",
            ),
        ):
            suffix = "move" if event.startswith("UPDATE") else event.lower()
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_count_{suffix} AFTER {event} ON {table}"
                f"{when} BEGIN {body} END"
            )


def drop_status_counts(schema_editor, tables: KindTables) -> None:
    table = tables.saved_table
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_count_move ON {table}")
        _drop_postgresql_trigger(schema_editor, f"{table}_count", table)
    elif vendor == "sqlite":
        for suffix in ("insert", "delete", "move"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_count_{suffix}")
    schema_editor.execute(f"DELETE FROM {PERSON_COUNTS} WHERE kind = '{tables.kind}'")


# The title copy.


def create_title_copy(schema_editor, tables: KindTables) -> None:
    """Fill `item_title` on every saved row, then keep it equal to the item's title."""
    saved, item, column = tables.saved_table, tables.item_table, tables.item_column
    title_of_item = f"(SELECT title FROM {item} WHERE id = NEW.{column})"
    schema_editor.execute(
        f"UPDATE {saved} SET item_title = (SELECT title FROM {item} WHERE id = {saved}.{column})"
    )
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _postgresql_trigger(
            schema_editor, f"{saved}_item_title", saved, "BEFORE", ["INSERT", "UPDATE"],
            f"NEW.item_title := {title_of_item};\nRETURN NEW;",
        )  # fmt: skip
        _postgresql_trigger(
            schema_editor, f"{item}_title_copies", item, "AFTER", ["UPDATE OF title"],
            f"UPDATE {saved} SET item_title = NEW.title WHERE {column} = NEW.id;\nRETURN NULL;",
            when="OLD.title IS DISTINCT FROM NEW.title",
        )  # fmt: skip
    elif vendor == "sqlite":
        # SQLite cannot change NEW, so the row is corrected after it is written, when needed.
        for event in ("INSERT", f"UPDATE OF {column}, item_title"):
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {saved}_item_title_{event.split()[0].lower()}"
                f" AFTER {event} ON {saved} WHEN NEW.item_title IS NOT {title_of_item}"
                f" BEGIN UPDATE {saved} SET item_title = {title_of_item} WHERE id = NEW.id; END"
            )
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {item}_title_copies AFTER UPDATE OF title ON {item}"
            " WHEN OLD.title IS NOT NEW.title"
            f" BEGIN UPDATE {saved} SET item_title = NEW.title WHERE {column} = NEW.id; END"
        )


def drop_title_copy(schema_editor, tables: KindTables) -> None:
    saved, item = tables.saved_table, tables.item_table
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _drop_postgresql_trigger(schema_editor, f"{saved}_item_title", saved)
        _drop_postgresql_trigger(schema_editor, f"{item}_title_copies", item)
    elif vendor == "sqlite":
        for name in (f"{saved}_item_title_insert", f"{saved}_item_title_update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {item}_title_copies")


# Title search.


def create_title_search(schema_editor, tables: KindTables) -> None:
    """A trigram index for `icontains` on titles (`UPPER(title) LIKE '%...%'`), which a b-tree
    cannot serve. It is written through on every insert (no pending list), so a search right
    after a bulk load finds it quick and the planner sees it as it is. SQLite scans."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {tables.item_table}_title_search ON {tables.item_table}"
        " USING gin (UPPER(title::text) gin_trgm_ops) WITH (fastupdate = off)"
    )


def drop_title_search(schema_editor, tables: KindTables) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {tables.item_table}_title_search")


# The search index.


def search_table(tables: KindTables) -> str:
    """SQLite's FTS5 table of a kind's search text: its rowid is the item's id."""
    return f"{tables.item_table}_search"


def create_search_index(schema_editor, tables: KindTables) -> None:
    """Index `search_text` for `LIKE '%term%'`. PostgreSQL: a trigram index, written through on
    every insert (no pending list) so a search right after a bulk load finds it quick and the
    planner sees it as it is. SQLite: an external-content FTS5 table with the trigram
    tokenizer (which serves LIKE), filled now and kept by triggers."""
    item = tables.item_table
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {item}_search_text ON {item}"
            " USING gin (search_text gin_trgm_ops) WITH (fastupdate = off)"
        )
    elif schema_editor.connection.vendor == "sqlite":
        fts = search_table(tables)
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text,"
            f" content='{item}', content_rowid='id', tokenize='trigram')"
        )
        schema_editor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        add = f"INSERT INTO {fts}(rowid, search_text) VALUES (NEW.id, NEW.search_text);"
        remove = (
            f"INSERT INTO {fts}({fts}, rowid, search_text)"
            " VALUES ('delete', OLD.id, OLD.search_text);"
        )
        for suffix, event, body in (
            ("insert", "INSERT", add),
            ("delete", "DELETE", remove),
            ("update", "UPDATE OF search_text", remove + " " + add),
        ):
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {fts}_{suffix} AFTER {event} ON {item}"
                f" BEGIN {body} END"
            )


def drop_search_index(schema_editor, tables: KindTables) -> None:
    item = tables.item_table
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {item}_search_text")
    elif schema_editor.connection.vendor == "sqlite":
        fts = search_table(tables)
        for suffix in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")


# For migrations and tests.

RULES = {
    "progress guards": (create_progress_guards, drop_progress_guards),
    "status counts": (create_status_counts, drop_status_counts),
    "title copy": (create_title_copy, drop_title_copy),
    "search index": (create_search_index, drop_search_index),
}
# Rules an older migration installed and a later one removed: kept so both still run.
RETIRED_RULES = {
    "title search": (create_title_search, drop_title_search),  # 0005; 0007 replaced it
}


def operation(rule: str, *kinds: KindTables) -> migrations.RunPython:
    """One migration operation that installs `rule` for `kinds` (and removes it backwards)."""
    create, drop = (RULES | RETIRED_RULES)[rule]

    def forwards(apps, schema_editor) -> None:
        for tables in kinds:
            create(schema_editor, tables)

    def backwards(apps, schema_editor) -> None:
        for tables in kinds:
            drop(schema_editor, tables)

    return migrations.RunPython(forwards, backwards, elidable=False)


def dropped(rule: str, *kinds: KindTables) -> migrations.RunPython:
    """The inverse of `operation`: removes `rule` (and puts it back backwards). A migration
    that makes Django rebuild a kind's table on SQLite starts with this and ends with
    `operation`, since SQLite drops a rebuilt table's triggers and cannot rename a table that
    another table's trigger names."""
    create, drop = (RULES | RETIRED_RULES)[rule]

    def forwards(apps, schema_editor) -> None:
        for tables in kinds:
            drop(schema_editor, tables)

    def backwards(apps, schema_editor) -> None:
        for tables in kinds:
            create(schema_editor, tables)

    return migrations.RunPython(forwards, backwards, elidable=False)


def operations(tables: KindTables) -> list[migrations.RunPython]:
    """Every rule for one kind: what a new kind's migration ends with."""
    return [operation(rule, tables) for rule in RULES]


def expected_objects(tables: KindTables, vendor: str) -> dict[str, set[str]]:
    """The triggers and indexes these rules leave in a database of `vendor`, by rule."""
    saved, item = tables.saved_table, tables.item_table
    found: dict[str, set[str]] = {}
    guards = set()
    for name, _, events, *_ in _all_guards(tables, vendor):
        if vendor == "sqlite":
            guards |= {_sqlite_name(name, event) for event in events}
        else:
            guards.add(name)
    found["progress guards"] = guards
    if vendor == "sqlite":
        found["status counts"] = {f"{saved}_count_{s}" for s in ("insert", "delete", "move")}
        found["title copy"] = {
            f"{saved}_item_title_insert",
            f"{saved}_item_title_update",
            f"{item}_title_copies",
        }
        fts = f"{item}_search"
        found["search index"] = {f"{fts}_{s}" for s in ("insert", "delete", "update")}
    else:
        found["status counts"] = {f"{saved}_count", f"{saved}_count_move"}
        found["title copy"] = {f"{saved}_item_title", f"{item}_title_copies"}
        found["search index"] = {f"{item}_search_text"}
    return found


def live_objects(connection) -> set[str]:
    """The names of every trigger and index in the database `connection` points at."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'index')")
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                " UNION SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            )
        return {row[0] for row in cursor.fetchall()}
