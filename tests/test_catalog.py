"""The demo catalog and the command that adds it: it adds what is missing, and fills in only
the empty ids, alternative titles and release status of what is there."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from media.kinds import KINDS
from media.text import normalize


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
        assert f"{kind.plural}: {count} added, 0 already there, 0 completed" in first
        assert f"{kind.plural}: 0 added, {count} already there, 0 completed" in second
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
        ('[{"title": "A", "year": 1999, "alt_titles": "B"}]', "entry 1: alt_titles"),
        ('[{"title": "A", "year": 1999, "alt_titles": ["B", " "]}]', "entry 1: alt_titles"),
        ('[{"title": "A", "year": 1999, "mal_id": -1}]', "entry 1"),
        ('[{"title": "A", "year": 1999, "release_status": "soon"}]', "entry 1"),
        ('[{"title": "A", "mal_id": 5}, {"title": "B", "mal_id": 5}]', "entry 2.*twice"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_entry_named(db, tmp_path, content, message):
    (tmp_path / "movie.json").write_text('[{"title": "Fine", "year": 2000}]')
    (tmp_path / "anime.json").write_text(content)
    with pytest.raises(CommandError, match=message):
        load(dir=tmp_path)
    assert snapshot() == [[] for _ in KINDS]


# The files' ids, alternative titles and release status.

MOVIE, ANIME, MANGA = (KINDS[key].item_model for key in ("movie", "anime", "manga"))
NAMES = ("alt_titles", "release_status")


def titles_found(model, name: str) -> list[str]:
    """The titles whose search text holds `name`: what the catalog's search matches."""
    found = model.objects.filter(search_text__contains=normalize(name))
    return list(found.values_list("title", flat=True))


def test_ids_alternative_titles_and_release_status_load(db):
    load()
    spirited = MOVIE.objects.get(title="Spirited Away")
    assert (spirited.tmdb_id, spirited.imdb_id) == (129, "tt0245429")
    assert spirited.alt_titles == ["Sen to Chihiro no Kamikakushi"]
    assert spirited.release_status == "finished"
    assert ANIME.objects.get(title="Cowboy Bebop").mal_id == 1
    assert ANIME.objects.get(title="Death Note").mal_id == 1535
    assert MANGA.objects.get(title="Monster").mal_id == 1
    assert titles_found(ANIME, "Shingeki no Kyojin") == ["Attack on Titan"]
    assert titles_found(MANGA, "shingeki no kyojin") == ["Attack on Titan"]
    assert titles_found(MOVIE, "Sen to Chihiro") == ["Spirited Away"]


def stripped_files(folder):
    """The demo files as they were before they had ids, alternative titles or status."""
    for kind in KINDS.values():
        rows = [
            {k: v for k, v in row.items() if k not in (*kind.item_model.external_id_fields, *NAMES)}
            for row in kind.demo_rows()
        ]
        (folder / kind.demo_file.name).write_text(json.dumps(rows))


def test_an_older_install_gains_the_ids_and_keeps_its_own_facts(db, tmp_path):
    stripped_files(tmp_path)
    load(dir=tmp_path)
    assert not ANIME.objects.filter(mal_id__isnull=False).exists()
    corrected = ANIME.objects.get(title="Attack on Titan")
    corrected.episodes, corrected.synopsis = 87, "Ours."
    corrected.save()
    assert titles_found(ANIME, "Shingeki no Kyojin") == []

    out = load()
    for kind in KINDS.values():
        count = len(kind.demo_rows())
        assert f"{kind.plural}: 0 added, {count} already there, {count} completed" in out
    corrected.refresh_from_db()
    assert (corrected.title, corrected.year) == ("Attack on Titan", 2013)
    assert (corrected.episodes, corrected.synopsis) == (87, "Ours.")
    assert corrected.mal_id == 16498
    assert corrected.alt_titles == ["Shingeki no Kyojin"]
    assert corrected.release_status == "finished"
    assert "shingeki no kyojin" in corrected.search_text
    assert titles_found(ANIME, "Shingeki no Kyojin") == ["Attack on Titan"]
    assert MOVIE.objects.get(title="Spirited Away").imdb_id == "tt0245429"
    assert ANIME.objects.count() == len(KINDS["anime"].demo_rows())

    before = snapshot()
    again = load()
    assert "Anime: 0 added, 30 already there, 0 completed" in again
    assert snapshot() == before


def test_what_someone_set_is_kept(db):
    ANIME.objects.create(
        title="Cowboy Bebop", year=1998, episodes=26, mal_id=999, alt_titles=["Bebop"]
    )
    ANIME.objects.create(title="Trigun", year=1998, episodes=26, release_status="hiatus")
    MOVIE.objects.create(title="Alien", year=1979, alt_titles=["Le Huitième Passager"])
    out = load()
    assert "Cowboy Bebop (1998) keeps its MyAnimeList id 999 (the file says 1)" in out
    bebop = ANIME.objects.get(title="Cowboy Bebop")
    # Another id may mean another title of the same name: nothing of the file's is taken.
    assert (bebop.mal_id, bebop.alt_titles, bebop.release_status) == (999, ["Bebop"], "")
    assert not ANIME.objects.filter(mal_id=1).exists()
    trigun = ANIME.objects.get(title="Trigun")
    assert (trigun.mal_id, trigun.release_status) == (6, "hiatus")
    alien = MOVIE.objects.get(title="Alien")
    assert (alien.tmdb_id, alien.imdb_id) == (348, "tt0078748")
    assert alien.alt_titles == ["Le Huitième Passager"]
    assert "Anime: 28 added, 2 already there, 1 completed" in out

    before = snapshot()
    assert "Anime: 0 added, 30 already there, 0 completed" in load()
    assert snapshot() == before


def test_an_id_another_row_holds_is_skipped(db):
    # Added from its provider under its original title (it has the IMDb id only), and an
    # admin's entry of the same film: the provider's row keeps its id, the admin's takes none.
    provider = MOVIE.objects.create(
        title="Sen to Chihiro no Kamikakushi", year=2001, imdb_id="tt0245429"
    )
    local = MOVIE.objects.create(title="Spirited Away", year=2001, runtime_minutes=124)
    # The same anime under its romaji title only: it is already there, not added twice.
    provider_titan = ANIME.objects.create(title="Shingeki no Kyojin", year=2013, mal_id=16498)
    out = load()
    assert "Spirited Away (2001) is left without IMDb id tt0245429" in out
    local.refresh_from_db()
    assert (local.tmdb_id, local.imdb_id, local.runtime_minutes) == (None, None, 124)
    assert local.alt_titles == ["Sen to Chihiro no Kamikakushi"]
    assert local.release_status == "finished"
    provider.refresh_from_db()
    assert (provider.tmdb_id, provider.imdb_id) == (None, "tt0245429")
    assert "Movies: 29 added, 1 already there, 1 completed" in out
    assert "Anime: 29 added, 1 already there, 0 completed" in out
    assert not ANIME.objects.filter(title="Attack on Titan").exists()
    provider_titan.refresh_from_db()
    assert (provider_titan.alt_titles, provider_titan.release_status) == ([], "")

    before = snapshot()
    again = load()
    assert "Movies: 0 added, 30 already there, 0 completed" in again
    assert "Anime: 0 added, 30 already there, 0 completed" in again
    assert snapshot() == before


def test_a_local_namesake_next_to_the_provider_row_gets_no_id(db):
    ANIME.objects.create(title="Attack on Titan", year=2013, mal_id=16498, episodes=25)
    ANIME.objects.create(title="Death Note", year=2006)
    ANIME.objects.create(title="Kira", year=2006, mal_id=1535)
    out = load()
    assert "Death Note (2006) is left without MyAnimeList id 1535: Kira (2006)" in out
    note = ANIME.objects.get(title="Death Note")
    assert (note.mal_id, note.release_status) == (None, "finished")
    assert ANIME.objects.filter(title="Attack on Titan").count() == 1
    assert "Anime: 28 added, 2 already there, 2 completed" in out


IMDB_ID = re.compile(r"^tt\d{7,10}$")


@pytest.mark.parametrize("kind", KINDS.values(), ids=str)
def test_the_files_ids_and_names(kind):
    rows = kind.demo_rows()
    for field in kind.item_model.external_id_fields:
        values = [row[field] for row in rows if field in row]
        assert len(values) == len(set(values)), f"{field} repeats"
        for value in values:
            if field == "imdb_id":
                assert isinstance(value, str) and IMDB_ID.match(value), value
            else:
                assert isinstance(value, int) and not isinstance(value, bool) and value > 0
    for row in rows:
        names = row.get("alt_titles", [])
        assert isinstance(names, list) and len(names) <= 3, row["title"]
        for name in names:
            assert isinstance(name, str) and name.strip() == name and name, row["title"]
            assert normalize(name) != normalize(row["title"]), row["title"]
        assert len({normalize(name) for name in names}) == len(names), row["title"]
        assert row.get("release_status", "finished") in ("finished", "releasing", "cancelled")
        assert "poster_url" not in row
