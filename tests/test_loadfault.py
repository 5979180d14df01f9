"""The load-and-fault script's judgement (bench/loadfault.py): what counts as a lost write and as
a half-written one. The run itself (servers, SIGKILL, a minute of load) is `make loadfault`."""

from __future__ import annotations

import pytest

from bench import loadfault
from media.imports import detect
from media.kinds import KINDS
from media.models import Import, SavedCount

ANIME = KINDS["anime"]


def test_an_acknowledged_write_must_be_stored():
    writes = [("save 1", True, True), ("save 1", False, True), ("track 2", 5, True)]
    initial = {"save 1": False, "track 2": 0}
    assert loadfault.lost_writes(writes, initial, {"save 1": False, "track 2": 5})[:2] == (0, 0)
    lost, unconfirmed, what = loadfault.lost_writes(writes, initial, {"save 1": True, "track 2": 5})
    assert (lost, unconfirmed) == (1, 0)
    assert what[0].startswith("save 1: stored True")
    # An older acknowledged value is as lost as no value.
    assert loadfault.lost_writes(writes, initial, {"save 1": False, "track 2": 4})[0] == 1


def test_a_write_without_an_answer_may_or_may_not_be_stored():
    writes = [("track 2", 5, True), ("track 2", 9, False), ("track 2", 11, False)]
    for stored in (5, 9, 11):
        assert loadfault.lost_writes(writes, {"track 2": 0}, {"track 2": stored})[:2] == (0, 1)
    assert loadfault.lost_writes(writes, {"track 2": 0}, {"track 2": 0})[0] == 1
    # Nothing acknowledged: the initial value is still possible.
    unanswered = [("save 3", True, False)]
    for stored in (False, True):
        assert loadfault.lost_writes(unanswered, {"save 3": False}, {"save 3": stored})[0] == 0


def test_the_import_file_is_one_shelf_reads_with_its_numbers_values():
    titles = [(900_001, "Load anime 0-1"), (900_002, "Load anime 0-2")]
    rows = detect(loadfault.mal_xml(titles, 7), "load-1-7.xml").rows()
    assert [row.ids for row in rows] == [{"mal_id": 900_001}, {"mal_id": 900_002}]
    episodes, score = loadfault.import_values(7)
    assert {(row.progress["episode_progress"], row.score) for row in rows} == {(episodes, score)}
    assert loadfault.import_number("load-12-7.xml") == 7
    assert loadfault.import_number("list.xml") is None


def test_log_problems_counts_locks_and_tracebacks():
    text = (
        "GET / 200\nTraceback (most recent call last):\n  ...\n"
        "django.db.utils.OperationalError: database is locked\n"
    )
    assert loadfault.log_problems(text) == {"locked": 1, "tracebacks": 1}
    assert loadfault.log_problems("GET / 200\n") == {"locked": 0, "tracebacks": 0}


def test_the_server_is_the_procfiles():
    assert "gunicorn" in loadfault.procfile("web")
    assert "manage.py worker" in loadfault.procfile("worker")
    with pytest.raises(RuntimeError):
        loadfault.procfile("nothing")


@pytest.fixture
def world(db):
    return loadfault.seed(clients=2)


def test_a_save_deleted_behind_the_clients_back_is_lost(world):
    person = world["people"][0]
    first, second = person["toggled"][:2]
    saved = ANIME.saved_model
    saved.objects.create(user_id=person["user_id"], anime_id=first)
    saved.objects.filter(user_id=person["user_id"], anime_id=person["tracked"]).update(
        episode_progress=40
    )
    writes = [
        (f"save {first}", True, True),
        (f"save {second}", True, True),  # acknowledged, then gone below
        (f"track {person['tracked']}", 40, True),
    ]
    saved.objects.create(user_id=person["user_id"], anime_id=second)
    initial, actual = loadfault.actual_state(person)
    assert loadfault.lost_writes(writes, initial, actual)[0] == 0

    saved.objects.filter(user_id=person["user_id"], anime_id=second).delete()
    initial, actual = loadfault.actual_state(person)
    lost, _, what = loadfault.lost_writes(writes, initial, actual)
    assert lost == 1
    assert what == [f"save {second}: stored False, expected one of ['True']"]


def imported(person, number: int, *, rows: int | None = None) -> Import:
    """Person's import `number`, done, with its titles written as its file says."""
    episodes, score = loadfault.import_values(number)
    for pk in person["imported_pks"][:rows]:
        ANIME.saved_model.objects.update_or_create(
            user_id=person["user_id"],
            anime_id=pk,
            defaults={"episode_progress": episodes, "score": score},
        )
    return Import.objects.create(
        user_id=person["user_id"],
        filename=f"load-{person['user_id']}-{number}.xml",
        state=Import.State.DONE,
    )


def test_a_fresh_world_has_nothing_half_written(world):
    assert loadfault.half_written(world["people"]) == []
    assert loadfault.open_imports() == {}


def test_an_import_written_whole_is_not_half_written(world):
    person = world["people"][0]
    imported(person, 1)
    imported(person, 2)
    assert loadfault.half_written(world["people"]) == []
    assert loadfault.actual_state(person)[1]["import"] == 2


def test_an_import_written_in_part_is_half_written(world):
    person = world["people"][1]
    imported(person, 1)
    imported(person, 2, rows=3)  # the last import reached 3 of its titles
    (found,) = loadfault.half_written(world["people"])
    assert found.startswith(f"{person['username']}: titles of load-{person['user_id']}-2.xml")


def test_titles_written_for_an_import_that_is_not_done_are_half_written(world):
    person = world["people"][0]
    ANIME.saved_model.objects.create(
        user_id=person["user_id"], anime_id=person["imported_pks"][0], episode_progress=1
    )
    (found,) = loadfault.half_written(world["people"])
    assert "no import done" in found


def test_a_closed_import_keeping_its_rows_is_half_written(world):
    person = world["people"][0]
    imp = Import.objects.create(
        user_id=person["user_id"], filename="x.xml", state=Import.State.DONE, rows=[{"a": 1}]
    )
    found = loadfault.half_written(world["people"])
    assert f"import {imp.pk} is closed but keeps its rows" in found


def test_counts_that_disagree_with_the_rows_are_half_written(world):
    person = world["people"][0]
    SavedCount.objects.filter(user_id=person["user_id"]).update(saves=5)
    (found,) = loadfault.half_written(world["people"])
    assert found.startswith("status counts differ from the rows")
