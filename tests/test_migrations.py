"""The tracking migrations keep the saves people already have."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("media", "0001_initial")]
AFTER = [("media", "0003_progress_within_total")]


@pytest.mark.django_db(transaction=True)
def test_existing_saves_survive_with_defaults():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="early")
    anime = old.get_model("media", "Anime").objects.create(title="Mushishi", year=2005, episodes=26)
    saved_at = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    old_saved = old.get_model("media", "SavedAnime").objects.create(user=user, anime=anime)
    old.get_model("media", "SavedAnime").objects.filter(pk=old_saved.pk).update(created=saved_at)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    saved = new.get_model("media", "SavedAnime").objects.get(pk=old_saved.pk)
    assert (saved.status, saved.episode_progress, saved.score, saved.note) == (
        "planned",
        0,
        None,
        "",
    )
    assert saved.created == saved_at and saved.updated == saved_at
    latest = MigrationExecutor(connection)  # a fresh loader: it knows what is applied now
    latest.migrate(latest.loader.graph.leaf_nodes())  # leave the schema as it was


@pytest.mark.django_db(transaction=True)
def test_the_title_copy_is_filled_and_every_rule_survives_the_table_rebuild():
    from media import triggers
    from media.kinds import KINDS

    before, after = [("media", "0005_catalog_indexes")], [("media", "0006_kind_rules_undo_sorts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="early")
    manga = old.get_model("media", "Manga").objects.create(title="Mushishi", year=1999, chapters=50)
    old.get_model("media", "SavedManga").objects.create(user=user, manga=manga, chapter_progress=9)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    saved = new.get_model("media", "SavedManga").objects.get()
    assert (saved.item_title, saved.chapter_progress) == ("Mushishi", 9)
    counts = new.get_model("media", "SavedCount").objects.filter(user_id=user.pk)
    assert list(counts.values_list("kind", "status", "saves")) == [("manga", "planned", 1)]
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
    # Every registered kind, whichever migration made it, has its rules at the end.
    live = triggers.live_objects(connection)
    for kind in KINDS.values():
        for names in triggers.expected_objects(
            triggers.KindTables.of(kind), connection.vendor
        ).values():
            assert names <= live
