"""Progress may not pass the item's total: triggers, because a CHECK cannot read another table.

Each (saved table, progress column, item table, total column) gets a trigger on the saved
table's inserts and updates, and one on the item's updates, so neither side can move past
the other; an unknown total (NULL) sets no bound. A violation surfaces as IntegrityError.
"""

from django.db import migrations

BOUNDS = [
    ("media_savedanime", "episode_progress", "media_anime", "episodes", "anime_id"),
    ("media_savedmanga", "chapter_progress", "media_manga", "chapters", "manga_id"),
    ("media_savedmanga", "volume_progress", "media_manga", "volumes", "manga_id"),
]


def names(table, column):
    return f"{table}_{column}_within_total"


def total_names(item_table, total):
    return f"{item_table}_{total}_covers_progress"


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


def create_total_guards(apps, schema_editor):
    """The other side: an item's total may not drop below progress already tracked."""
    vendor = schema_editor.connection.vendor
    for table, column, item_table, total, fk in BOUNDS:
        name = total_names(item_table, total)
        below = (
            f"NEW.{total} < (SELECT MAX({column}) FROM {table} WHERE {fk} = NEW.id)"
        )
        message = f"{item_table}.{total} is below progress already tracked in {table}"
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF {below} THEN
                        RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                END $$;
                """
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {item_table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}();"
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OF {total} ON {item_table} "
                f"WHEN {below} BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            )


def drop_total_guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for _, _, item_table, total, _ in BOUNDS:
        name = total_names(item_table, total)
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {item_table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}();")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")


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

    operations = [
        migrations.RunPython(create, drop),
        migrations.RunPython(create_total_guards, drop_total_guards),
    ]
