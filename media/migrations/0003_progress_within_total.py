"""Progress may not pass the item's total: triggers, because a CHECK cannot read another table.

Each (saved table, progress column, item table, total column) gets a trigger on insert and
update; an unknown total (NULL) sets no bound. The violation surfaces as IntegrityError.
"""

from django.db import migrations

BOUNDS = [
    ("media_savedanime", "episode_progress", "media_anime", "episodes", "anime_id"),
    ("media_savedmanga", "chapter_progress", "media_manga", "chapters", "manga_id"),
    ("media_savedmanga", "volume_progress", "media_manga", "volumes", "manga_id"),
]


def names(table, column):
    return f"{table}_{column}_within_total"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, column, item_table, total, fk in BOUNDS:
        name = names(table, column)
        past_total = (
            f"NEW.{column} > (SELECT {total} FROM {item_table} WHERE id = NEW.{fk})"
        )
        message = f"{column} is past the {item_table}.{total} of the item"
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF {past_total} THEN
                        RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                END $$;
                """
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}();"
            )
        elif vendor == "sqlite":
            for event in ("INSERT", "UPDATE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} "
                    f"WHEN {past_total} BEGIN SELECT RAISE(ABORT, '{message}'); END;"
                )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, column, *_ in BOUNDS:
        name = names(table, column)
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}();")
        elif vendor == "sqlite":
            for event in ("insert", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{event};")


class Migration(migrations.Migration):
    dependencies = [("media", "0002_tracking")]

    operations = [migrations.RunPython(create, drop)]
