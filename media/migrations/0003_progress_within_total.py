"""Progress may not pass the item's total: triggers, because a CHECK cannot read another table
(`media.triggers`: a guard on the saved table's inserts and updates, and one on the item's
updates, so neither side can move past the other; an unknown total sets no bound)."""

from django.db import migrations

from media.triggers import KindTables, operation

ANIME = KindTables("anime", "media_savedanime", "media_anime", "anime_id", (("episode_progress", "episodes"),))
MANGA = KindTables(
    "manga",
    "media_savedmanga",
    "media_manga",
    "manga_id",
    (("chapter_progress", "chapters"), ("volume_progress", "volumes")),
)


class Migration(migrations.Migration):
    dependencies = [("media", "0002_tracking")]

    operations = [operation("progress guards", ANIME, MANGA)]
