"""Progress may not pass the item's total: triggers, because a CHECK cannot read another table.

Each (saved table, progress column, item table, total column) gets a guard on the saved
table's inserts and updates, and one on the item's updates, so neither side can move past
the other; an unknown total (NULL) sets no bound. A violation surfaces as IntegrityError.
"""

from django.db import migrations

BOUNDS = [
    ("media_savedanime", "episode_progress", "media_anime", "episodes", "anime_id"),
    ("media_savedmanga", "chapter_progress", "media_manga", "chapters", "manga_id"),
    ("media_savedmanga", "volume_progress", "media_manga", "volumes", "manga_id"),
]


def guards():
    """(name, table, events, condition that refuses the row, message), two per bound."""
    for table, column, item_table, total, fk in BOUNDS:
        yield (
            f"{table}_{column}_within_total",
            table,
            ["INSERT", "UPDATE"],
            f"NEW.{column} > (SELECT {total} FROM {item_table} WHERE id = NEW.{fk})",
            f"{column} is past the {item_table}.{total} of the item",
        )
        yield (
            f"{item_table}_{total}_covers_progress",
            item_table,
            [f"UPDATE OF {total}"],
            f"NEW.{total} < (SELECT MAX({column}) FROM {table} WHERE {fk} = NEW.id)",
            f"{item_table}.{total} is below progress already tracked in {table}",
        )


def sqlite_name(name, event):
    return f"{name}_{event.split()[0].lower()}"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, table, events, refused, message in guards():
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF {refused} THEN
                        RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                END $$;
                """
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE {' OR '.join(events)} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}();"
            )
        elif vendor == "sqlite":
            for event in events:
                schema_editor.execute(
                    f"CREATE TRIGGER {sqlite_name(name, event)} BEFORE {event} ON {table} "
                    f"WHEN {refused} BEGIN SELECT RAISE(ABORT, '{message}'); END;"
                )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, table, events, _, _ in guards():
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}();")
        elif vendor == "sqlite":
            for event in events:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {sqlite_name(name, event)};")


class Migration(migrations.Migration):
    dependencies = [("media", "0002_tracking")]

    operations = [migrations.RunPython(create, drop)]
