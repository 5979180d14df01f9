"""The demo catalog and the command that loads it."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from media.models import Anime, Manga, Movie


def load(**kwargs) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_demo_catalog", stdout=out, **kwargs)
    return out.getvalue()


def snapshot():
    return [list(m.objects.order_by("pk").values()) for m in (Movie, Anime, Manga)]


def test_demo_catalog_has_enough_of_each_kind(db):
    load()
    for model in (Movie, Anime, Manga):
        assert model.objects.count() >= 24
        assert not model.objects.filter(synopsis="").exists()
    assert Movie.objects.filter(title="Spirited Away", year=2001, runtime_minutes=125).exists()
    assert Anime.objects.filter(title="Cowboy Bebop", year=1998, episodes=26).exists()
    assert Manga.objects.filter(title="Akira", year=1982, chapters=120, volumes=6).exists()


def test_loading_twice_changes_nothing(db):
    first = load()
    before = snapshot()
    second = load()
    assert "0 created, 0 updated" in second and "30 unchanged" in second
    assert "30 created" in first
    assert snapshot() == before


def test_changed_facts_are_updated_in_place(db, tmp_path):
    Movie.objects.create(title="Alien", year=1979, runtime_minutes=100)
    catalog = tmp_path / "c.json"
    catalog.write_text(
        json.dumps(
            {
                "movies": [
                    {
                        "title": "Alien",
                        "year": 1979,
                        "runtime_minutes": 117,
                        "synopsis": "In space.",
                    }
                ]
            }
        )
    )
    assert "0 created, 1 updated" in load(file=catalog)
    assert Movie.objects.get().runtime_minutes == 117


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "Cannot read the catalog"),
        ("[]", "expected an object"),
        ('{"movies": [{"title": "A", "year": 1999}, {"title": "", "year": 1999}]}', "entry 2"),
        ('{"movies": [{"title": "A", "year": 1999, "budget": 3}]}', "entry 1"),
        ('{"movies": [{"title": "A", "year": 1999}, {"title": "A", "year": 1999}]}', "twice"),
        ('{"anime": [{"title": "A", "year": "soon"}]}', "entry 1"),
    ],
)
def test_bad_catalog_is_refused_whole(db, tmp_path, content, message):
    catalog = tmp_path / "c.json"
    catalog.write_text(content)
    with pytest.raises(CommandError, match=message):
        load(file=catalog)
    assert snapshot() == [[], [], []]


def test_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read the catalog"):
        load(file=tmp_path / "absent.json")
