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


def assert_every_rule_is_live(tables) -> None:
    from media import triggers

    live = triggers.live_objects(connection)
    for each in tables:
        for rule, names in triggers.expected_objects(each, connection.vendor).items():
            assert names <= live, (each.kind, rule, names - live)


@pytest.mark.django_db(transaction=True)
def test_0009_keeps_the_saves_and_every_rule_both_ways():
    """0009 adds columns and checks to the saved tables, which SQLite rebuilds (dropping their
    triggers): the saves stay as they were, and every rule is there after it, and after it is
    undone, and still works."""
    from importlib import import_module

    from django.db import IntegrityError, transaction

    tables = import_module("media.migrations.0009_started_finished_rewatches").KINDS
    before, after = (
        [("media", "0008_alt_titles_are_names")],
        [("media", "0009_started_finished_rewatches")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="early")
    anime = old.get_model("media", "Anime").objects.create(title="Mushishi", year=2005, episodes=26)
    manga = old.get_model("media", "Manga").objects.create(title="Akira", year=1982, chapters=120)
    movie = old.get_model("media", "Movie").objects.create(title="Alien", year=1979)
    old.get_model("media", "SavedAnime").objects.create(
        user=user, anime=anime, episode_progress=9, status="in_progress", score=8
    )
    old.get_model("media", "SavedManga").objects.create(user=user, manga=manga, note="Neo-Tokyo")
    old.get_model("media", "SavedMovie").objects.create(user=user, movie=movie, status="dropped")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    assert_every_rule_is_live(tables)
    new = executor.loader.project_state(after).apps
    saved_anime = new.get_model("media", "SavedAnime").objects.get()
    assert (saved_anime.episode_progress, saved_anime.status, saved_anime.score) == (
        9,
        "in_progress",
        8,
    )
    assert (saved_anime.started, saved_anime.finished, saved_anime.rewatches) == (None, None, 0)
    assert new.get_model("media", "SavedManga").objects.get().note == "Neo-Tokyo"
    assert new.get_model("media", "SavedMovie").objects.get().rewatches == 0
    assert saved_anime.item_title == "Mushishi"
    counts = new.get_model("media", "SavedCount").objects.filter(user_id=user.pk)
    assert sorted(counts.values_list("kind", "status", "saves")) == [
        ("anime", "in_progress", 1),
        ("manga", "planned", 1),
        ("movie", "dropped", 1),
    ]
    # The rules work, not only exist: a guard refuses progress past the total, and a title
    # change reaches the saved row's copy.
    with pytest.raises(IntegrityError), transaction.atomic():
        new.get_model("media", "SavedAnime").objects.update(episode_progress=27)
    new.get_model("media", "Anime").objects.update(title="Mushi-shi")
    assert new.get_model("media", "SavedAnime").objects.get().item_title == "Mushi-shi"

    executor = MigrationExecutor(connection)
    executor.migrate(before)  # undone: the columns go, the rules stay
    assert_every_rule_is_live(tables)
    back = executor.loader.project_state(before).apps
    assert back.get_model("media", "SavedAnime").objects.get().episode_progress == 9
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
