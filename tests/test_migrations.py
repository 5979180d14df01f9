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
