"""The demo catalog and the command that adds it: it only ever adds what is missing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from media.kinds import KINDS


def load(**kwargs) -> str:
    out = StringIO()
    call_command("load_demo_catalog", stdout=out, **kwargs)
    return out.getvalue()


def snapshot():
    return [list(kind.item_model.objects.order_by("pk").values()) for kind in KINDS.values()]


@pytest.mark.parametrize("kind", KINDS.values(), ids=str)
def test_every_kind_has_enough_real_titles_with_synopses(db, kind):
    rows = kind.demo_rows()
    assert len(rows) >= 24
    assert all(row.get("synopsis") for row in rows)
    load()
    assert kind.item_model.objects.count() == len(rows)


def test_known_facts(db):
    load()
    assert (
        KINDS["movie"]
        .item_model.objects.filter(title="Spirited Away", year=2001, runtime_minutes=125)
        .exists()
    )
    assert (
        KINDS["anime"]
        .item_model.objects.filter(title="Cowboy Bebop", year=1998, episodes=26)
        .exists()
    )
    assert (
        KINDS["manga"]
        .item_model.objects.filter(title="Akira", year=1982, chapters=120, volumes=6)
        .exists()
    )


def test_loading_twice_changes_nothing(db):
    first = load()
    before = snapshot()
    second = load()
    for kind in KINDS.values():
        count = len(kind.demo_rows())
        assert f"{kind.plural}: {count} added, 0 already there" in first
        assert f"{kind.plural}: 0 added, {count} already there" in second
    assert snapshot() == before


def test_an_admins_correction_is_kept(db):
    """Each `make run` loads the demo catalog: it must not undo what the admin changed."""
    load()
    anime = KINDS["anime"].item_model
    anime.objects.filter(title="Attack on Titan").update(episodes=87, synopsis="Fixed.")
    deleted = KINDS["movie"].item_model.objects.filter(title="Casablanca")
    deleted.delete()
    load()
    corrected = anime.objects.get(title="Attack on Titan")
    assert (corrected.episodes, corrected.synopsis) == (87, "Fixed.")
    # What is missing comes back; a deleted demo title is missing, so it is added again.
    assert KINDS["movie"].item_model.objects.filter(title="Casablanca").count() == 1


def test_tracked_progress_beyond_the_files_total_never_stops_a_start(db):
    """Someone tracked 60 episodes of a title the file says has 26: loading leaves it be."""
    load()
    anime = KINDS["anime"].item_model.objects.get(title="Cowboy Bebop")
    anime.episodes = 64
    anime.save()
    person = get_user_model().objects.create_user("ada")
    KINDS["anime"].saved_model.objects.create(user=person, anime=anime, episode_progress=60)
    assert "Anime: 0 added, 30 already there" in load()
    anime.refresh_from_db()
    assert anime.episodes == 64


def test_a_title_added_meanwhile_is_not_an_error(db, tmp_path):
    (tmp_path / "movie.json").write_text(
        json.dumps([{"title": "Alien", "year": 1979, "runtime_minutes": 117}])
    )
    KINDS["movie"].item_model.objects.create(title="Alien", year=1979, runtime_minutes=100)
    assert "Movies: 0 added, 1 already there" in load(dir=tmp_path)
    assert KINDS["movie"].item_model.objects.get().runtime_minutes == 100


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "Cannot read the demo catalog"),
        ("{}", "expected a list"),
        ('[{"title": "A", "year": 1999}, {"title": "", "year": 1999}]', "entry 2"),
        ('[{"title": "A", "year": 1999, "budget": 3}]', "entry 1"),
        ('[{"title": "A", "year": 1999}, {"title": "A", "year": 1999}]', "twice"),
        ('[{"title": "A", "year": "soon"}]', "entry 1"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_entry_named(db, tmp_path, content, message):
    (tmp_path / "movie.json").write_text('[{"title": "Fine", "year": 2000}]')
    (tmp_path / "anime.json").write_text(content)
    with pytest.raises(CommandError, match=message):
        load(dir=tmp_path)
    assert snapshot() == [[] for _ in KINDS]
