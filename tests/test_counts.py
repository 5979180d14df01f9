"""The dashboard's status counts are kept by triggers: right after every kind of write."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count

from media.feed import status_counts
from media.kinds import KINDS
from media.models import Anime, Movie, SavedAnime, SavedCount, SavedMovie, Status
from media.services import save_item, unsave_item
from tests.conftest import HTMX


def counted(user) -> dict[str, int]:
    """The counts the slow way: grouping every saved row of `user`."""
    counts = dict.fromkeys(Status.values, 0)
    for kind in KINDS.values():
        rows = kind.saved_model.objects.filter(user=user).values_list("status")
        for status, number in rows.annotate(number=Count("id")).order_by():
            counts[status] += number
    return counts


def test_saving_and_unsaving_moves_the_counts(user, other_user, items):
    for kind in KINDS.values():
        save_item(user, kind, items[kind.key].pk)
        save_item(user, kind, items[kind.key].pk)  # a repeated save inserts nothing
    save_item(other_user, KINDS["movie"], items["movie"].pk)
    assert status_counts(user)["planned"] == len(KINDS) and status_counts(user) == counted(user)
    assert status_counts(other_user)["planned"] == 1

    unsave_item(user, KINDS["anime"], items["anime"].pk)
    unsave_item(user, KINDS["anime"], items["anime"].pk)
    assert status_counts(user)["planned"] == len(KINDS) - 1
    assert status_counts(user) == counted(user)
    assert status_counts(user, [KINDS["movie"]]) == {
        **dict.fromkeys(Status.values, 0),
        "planned": 1,
    }


def test_status_changes_move_one_save_between_counts(user, items):
    SavedMovie.objects.create(user=user, movie=items["movie"])
    SavedAnime.objects.create(user=user, anime=items["anime"])
    SavedAnime.objects.filter(user=user).update(status=Status.ON_HOLD, episode_progress=3)
    SavedAnime.objects.filter(user=user).update(episode_progress=4)  # status unchanged
    assert status_counts(user) == counted(user)
    assert status_counts(user)["on_hold"] == 1 and status_counts(user)["planned"] == 1


def test_tracking_edit_through_the_site_updates_the_counts(auth_client, user, items):
    SavedAnime.objects.create(user=user, anime=items["anime"])
    total = items["anime"].episodes
    url = f"/track/anime/{items['anime'].pk}/"
    response = auth_client.post(
        url, {"only": "episode_progress", "episode_progress": str(total)}, **HTMX
    )
    assert response.status_code == 200
    assert status_counts(user)["completed"] == 1 and status_counts(user)["planned"] == 0


def test_cascades_keep_the_counts(user, other_user, items):
    extra = Movie.objects.create(title="Paprika", year=2006)
    for person in (user, other_user):
        SavedMovie.objects.create(user=person, movie=items["movie"])
        SavedMovie.objects.create(user=person, movie=extra)
    extra.delete()  # the catalog item goes, and every save of it
    assert status_counts(user)["planned"] == 1 and status_counts(user) == counted(user)
    other_user.delete()
    assert not SavedCount.objects.filter(user_id=other_user.pk).exists()
    assert status_counts(user) == counted(user)


def test_many_people_many_saves_stay_exact(db, items):
    User = get_user_model()
    people = [User.objects.create(username=f"reader{n}") for n in range(4)]
    shows = Anime.objects.bulk_create(
        [Anime(title=f"Show {n}", year=2000 + n, episodes=12) for n in range(10)]
    )
    for n, person in enumerate(people):
        SavedAnime.objects.bulk_create(
            [SavedAnime(user=person, anime=show) for show in shows[: 3 + n]],
            ignore_conflicts=True,
        )
        SavedAnime.objects.filter(user=person, anime__in=shows[:n]).update(
            status=Status.COMPLETED, episode_progress=12
        )
        SavedAnime.objects.filter(user=person, anime=shows[-1]).delete()
    for person in people:
        assert status_counts(person) == counted(person)


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_saves_already_there():
    before, after = [("media", "0003_progress_within_total")], [("media", "0004_saved_counts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="early")
    anime = old.get_model("media", "Anime")
    for n, status in enumerate(("planned", "planned", "dropped")):
        show = anime.objects.create(title=f"Early {n}", year=2001, episodes=10)
        old.get_model("media", "SavedAnime").objects.create(user=user, anime=show, status=status)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
    assert status_counts(get_user_model().objects.get(pk=user.pk)) == {
        **dict.fromkeys(Status.values, 0),
        "planned": 2,
        "dropped": 1,
    }
