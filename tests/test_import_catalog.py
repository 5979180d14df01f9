"""`manage.py import_catalog`: a whole anime catalog from anime-offline-database's file.

The real entry (Death Note) comes from the dataset's README (tests/fixtures/SOURCES.md);
the other files are built here, entry by entry, after the dataset's JSON schema.
"""

from __future__ import annotations

import gzip
import json
import logging
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.catalog_import import HEADER, NO_PIC  # the file's header, as the benchmark writes it
from media.catalog_import import MAX_ALT_TITLES
from media.models import Anime, SavedAnime

DATASETS = Path(__file__).parent / "fixtures" / "datasets"
SAMPLE = DATASETS / "anime-offline-database-sample.json"
SOURCE = "anime-offline-database"


def entry(mal_id: int | None, title: str, **changes) -> dict:
    """One entry with every key the schema requires."""
    sources = [f"https://anilist.co/anime/{(mal_id or 0) + 90000}"]
    if mal_id is not None:
        sources.append(f"https://myanimelist.net/anime/{mal_id}")
    found = {
        "sources": sources,
        "title": title,
        "type": "TV",
        "episodes": 12,
        "status": "FINISHED",
        "animeSeason": {"season": "SPRING", "year": 2010},
        "picture": f"https://cdn.myanimelist.net/images/anime/1/{mal_id}.jpg",
        "thumbnail": f"https://cdn.myanimelist.net/images/anime/1/{mal_id}t.jpg",
        "duration": {"value": 1440, "unit": "SECONDS"},
        "score": {"arithmeticGeometricMean": 7.5, "arithmeticMean": 7.5, "median": 7.5},
        "synonyms": [f"{title} (TV)"],
        "studios": ["madhouse"],
        "producers": [],
        "relatedAnime": [],
        "tags": ["drama"],
    }
    found.update(changes)
    return found


def minified(path: Path, entries: list) -> Path:
    path.write_text(json.dumps({**HEADER, "data": entries}, separators=(",", ":")))
    return path


def jsonl(path: Path, entries: list) -> Path:
    lines = [HEADER, *entries]
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return path


def run(path: Path, *args) -> str:
    out = StringIO()
    call_command("import_catalog", SOURCE, str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def snapshot() -> list[tuple]:
    return list(Anime.objects.order_by("pk").values_list())


def writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.fixture
def catalog(db, tmp_path):
    """Three titles loaded from a file: (the file's entries, where to write files)."""
    entries = [
        entry(101, "Alpha Run", episodes=24, status="ONGOING"),
        entry(102, "Beta Lines", synonyms=["Beta", "BETA LINES", "Beta", "ベータ"]),
        entry(103, "Gamma Ray", animeSeason={"season": "FALL", "year": 1999}),
    ]
    run(minified(tmp_path / "first.json", entries))
    return entries, tmp_path


# The real entry, in each of the file's forms.


def assert_death_note() -> None:
    item = Anime.objects.get(mal_id=1535)
    assert item.title == "Death Note"
    assert item.year == 2006
    assert item.episodes == 37
    assert item.release_status == "finished"
    assert item.poster_url == "https://cdn.myanimelist.net/images/anime/1079/138100.jpg"
    assert item.synopsis == ""
    assert len(item.alt_titles) == MAX_ALT_TITLES  # 30 synonyms, one of them the title
    assert "DEATH NOTE" not in item.alt_titles
    assert {"DN", "デスノート", "死亡笔记", "데스노트", "Quaderno della Morte"} <= set(
        item.alt_titles
    )
    assert "death note" in item.search_text and "死亡笔记" in item.search_text
    assert item.refreshed is not None


def test_the_real_entry(db):
    summary = run(SAMPLE)
    assert summary == (
        "Anime: 1 read, 1 added, 0 updated, 0 unchanged, 0 skipped (no MyAnimeList id)"
    )
    assert_death_note()


def test_json_lines_and_gzip_give_the_same_row(db, tmp_path):
    real = json.loads(SAMPLE.read_text())
    path = jsonl(tmp_path / "anime-offline-database.jsonl", real["data"])
    assert run(path).startswith("Anime: 1 read, 1 added")
    assert_death_note()
    Anime.objects.all().delete()
    packed = tmp_path / "anime-offline-database-minified.json.gz"
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert run(packed).startswith("Anime: 1 read, 1 added")
    assert_death_note()


def test_a_minified_file_on_one_line_and_an_empty_data_list(db, tmp_path):
    assert run(minified(tmp_path / "a.json", [entry(7, "Seven")])).startswith("Anime: 1 read, 1")
    assert run(minified(tmp_path / "b.json", [])).startswith("Anime: 0 read, 0 added")


# Idempotence and updates.


def test_a_rerun_writes_nothing(catalog):
    entries, tmp_path = catalog
    before = snapshot()
    with CaptureQueriesContext(connection) as queries:
        summary = run(minified(tmp_path / "again.json", entries))
    assert summary == (
        "Anime: 3 read, 0 added, 0 updated, 3 unchanged, 0 skipped (no MyAnimeList id)"
    )
    assert snapshot() == before  # `refreshed` included
    assert writes(queries) == []


def test_the_same_catalog_as_json_lines_is_unchanged(catalog):
    entries, tmp_path = catalog
    before = snapshot()
    assert "0 added, 0 updated, 3 unchanged" in run(jsonl(tmp_path / "a.jsonl", entries))
    assert snapshot() == before


def test_what_the_file_gives(catalog):
    alpha = Anime.objects.get(mal_id=101)
    assert (alpha.title, alpha.episodes, alpha.release_status, alpha.year) == (
        "Alpha Run", 24, "releasing", 2010,
    )  # fmt: skip
    assert alpha.alt_titles == ["Alpha Run (TV)"]
    assert alpha.poster_url == "https://cdn.myanimelist.net/images/anime/1/101.jpg"
    beta = Anime.objects.get(mal_id=102)
    assert beta.alt_titles == ["Beta", "ベータ"]  # once each, without the title
    assert Anime.objects.get(mal_id=103).year == 1999


def test_a_newer_file_updates_what_changed(catalog):
    entries, tmp_path = catalog
    Anime.objects.filter(mal_id=103).update(synopsis="Written by an admin.")
    before = {item.mal_id: item for item in Anime.objects.all()}
    newer = [
        entry(101, "Alpha Run", episodes=26, status="FINISHED"),  # the season ended
        entries[1],  # the same
        entry(103, "Gamma Ray!", animeSeason={"season": "FALL", "year": 1999}, episodes=0,
              status="UNKNOWN", picture=NO_PIC, synonyms=[]),
        entry(104, "Delta Wave", animeSeason={"season": "UNDEFINED", "year": None}),
    ]  # fmt: skip
    summary = run(minified(tmp_path / "newer.json", newer))
    assert summary == (
        "Anime: 4 read, 1 added, 2 updated, 1 unchanged, 0 skipped (no MyAnimeList id)"
    )
    after = {item.mal_id: item for item in Anime.objects.all()}
    assert (after[101].episodes, after[101].release_status) == (26, "finished")
    assert after[101].refreshed > before[101].refreshed
    assert after[102].refreshed == before[102].refreshed
    gamma = after[103]
    assert gamma.title == "Gamma Ray!" and "gamma ray" in gamma.search_text
    # What the file does not know (no total, no status, no picture, no synonyms, no
    # synopsis at all) erases nothing.
    assert gamma.episodes == 12 and gamma.release_status == "finished"
    assert gamma.poster_url.endswith("/103.jpg") and gamma.alt_titles == ["Gamma Ray (TV)"]
    assert gamma.synopsis == "Written by an admin."
    assert after[104].year is None


def test_a_placeholder_picture_and_odd_values_are_unknown(db, tmp_path):
    run(minified(tmp_path / "a.json", [
        entry(1, "  Spaced  ", picture=NO_PIC, episodes=0, status="HIATUS?",
              animeSeason={"season": "UNDEFINED"}),
        entry(2, "x" * 300, episodes=40000, animeSeason={"season": "SPRING", "year": 1500},
              synonyms=[f"Name {n}" for n in range(40)]),
    ]))  # fmt: skip
    one, two = Anime.objects.order_by("mal_id")
    assert (one.title, one.poster_url, one.episodes, one.release_status, one.year) == (
        "Spaced", "", None, "", None,
    )  # fmt: skip
    assert len(two.title) == 200 and two.episodes is None and two.year is None
    assert len(two.alt_titles) == MAX_ALT_TITLES


# Skipped entries.


def test_entries_without_a_myanimelist_id_are_skipped_and_counted(db, tmp_path):
    summary = run(minified(tmp_path / "a.json", [
        entry(None, "Only On AniList"),
        entry(5, "Five"),
        entry(None, "Another", sources=["https://myanimelist.net/manga/5"]),
    ]))  # fmt: skip
    assert summary.endswith("1 added, 0 updated, 0 unchanged, 2 skipped (no MyAnimeList id)")
    assert list(Anime.objects.values_list("title", flat=True)) == ["Five"]


def test_a_repeated_id_keeps_the_first_entry(db, tmp_path, caplog):
    path = minified(tmp_path / "a.json", [entry(5, "Five"), entry(6, "Six"), entry(5, "Cinq")])
    with caplog.at_level(logging.WARNING, logger="shelf.catalog"):
        summary = run(path, "--batch-size", "1")
    assert summary.endswith("2 added, 0 updated, 0 unchanged, 0 skipped (no MyAnimeList id), "
                            "1 skipped (MyAnimeList id repeated)")  # fmt: skip
    assert Anime.objects.get(mal_id=5).title == "Five"
    assert "Cinq" in caplog.text


# The catalog's own rules.


def test_a_total_below_tracked_progress_is_kept_and_logged(catalog, caplog):
    entries, tmp_path = catalog
    person = get_user_model().objects.create_user("ada")
    alpha = Anime.objects.get(mal_id=101)
    SavedAnime.objects.create(user=person, anime=alpha, episode_progress=20)
    gamma = Anime.objects.get(mal_id=103)
    Anime.objects.filter(pk=gamma.pk).update(episodes=None)  # unknown, then 5 < 9 tracked
    SavedAnime.objects.create(user=person, anime=gamma, episode_progress=9)
    newer = [
        entry(101, "Alpha Run", episodes=13, status="FINISHED"),
        entries[1],
        entry(103, "Gamma Ray", animeSeason={"season": "FALL", "year": 1999}, episodes=5),
    ]
    with caplog.at_level(logging.WARNING, logger="shelf.catalog"):
        summary = run(minified(tmp_path / "newer.json", newer))
    assert "1 updated, 2 unchanged" in summary
    assert "2 totals kept above tracked progress" in summary
    alpha.refresh_from_db()
    assert (alpha.episodes, alpha.release_status) == (24, "finished")  # the rest is taken
    assert Anime.objects.get(mal_id=103).episodes is None
    assert "Kept episodes of anime Alpha Run" in caplog.text
    assert "the file says 13, below the 20 tracked" in caplog.text


def test_a_local_namesake_takes_the_id(db, tmp_path):
    mine = Anime.objects.create(title="death note", year=2006, synopsis="Mine.", episodes=37)
    other_year = Anime.objects.create(title="Death Note", year=2017)
    summary = run(SAMPLE)
    assert "0 added, 1 updated" in summary
    mine.refresh_from_db()
    assert (mine.mal_id, mine.title, mine.synopsis) == (1535, "Death Note", "Mine.")
    assert Anime.objects.count() == 2
    other_year.refresh_from_db()
    assert other_year.mal_id is None
    assert "0 added, 0 updated, 1 unchanged" in run(SAMPLE)


def test_two_new_namesakes_adopt_one_local_row(db, tmp_path):
    Anime.objects.create(title="Twin", year=2010)
    summary = run(minified(tmp_path / "a.json", [entry(1, "Twin"), entry(2, "TWIN")]))
    assert "1 added, 1 updated" in summary
    assert sorted(Anime.objects.values_list("mal_id", flat=True)) == [1, 2]


# Bad files: refused whole, the entry named, nothing written.

GOOD = [entry(n, f"Good {n}") for n in (201, 202, 203)]
BAD_FILES = {
    "not JSON": ("hello, world", "neither a JSON object"),
    "empty": ("", "the file is empty"),
    "truncated": (json.dumps({**HEADER, "data": GOOD})[:-30], "not valid JSON after entry 2"),
    "a list": (json.dumps(GOOD), "neither a JSON object"),
    "no data": (json.dumps(HEADER), "no `data` list"),
    "data not a list": (json.dumps({**HEADER, "data": {"a": 1}}), "`data` should be a list"),
    "an entry not an object": (
        json.dumps({**HEADER, "data": [*GOOD, "Death Note"]}),
        'entry 4: expected an object, found the text "Death Note"',
    ),
    "episodes as text": (
        json.dumps({**HEADER, "data": [*GOOD, entry(204, "Bad", episodes="12")]}),
        'entry 4: `episodes` should be a number, not the text "12"',
    ),
    "a year as text": (
        json.dumps({**HEADER, "data": [*GOOD, entry(204, "Bad", animeSeason={"year": "2001"})]}),
        "entry 4: `animeSeason.year` should be a number",
    ),
    "negative episodes": (
        json.dumps({**HEADER, "data": [*GOOD, entry(204, "Bad", episodes=-1)]}),
        "entry 4: `episodes` should be a whole number of 0 or more, not -1",
    ),
    "no title": (
        json.dumps({**HEADER, "data": [*GOOD, {"sources": []}]}),
        "entry 4: `title` is missing",
    ),
    "sources not a list": (
        json.dumps({**HEADER, "data": [*GOOD, entry(204, "Bad", sources="x")]}),
        "entry 4: `sources` should be a list",
    ),
    "a bad JSON line": (
        "\n".join(json.dumps(line) for line in [HEADER, *GOOD]) + '\n{"sources": [',
        "line 5 (entry 4) is not valid JSON",
    ),
    "a JSON line of the wrong type": (
        "\n".join(json.dumps(line) for line in [HEADER, *GOOD, entry(204, "B", episodes=[])]),
        "entry 4: `episodes` should be a number, not a list",
    ),
    "a broken gzip": (gzip.compress(json.dumps({**HEADER, "data": GOOD}).encode())[:-40], ""),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_and_writes_nothing(catalog, case):
    _, tmp_path = catalog
    content, message = BAD_FILES[case]
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        run(path, "--batch-size", "1")  # earlier entries were written before the bad one
    assert "was not loaded, nothing was written" in str(refused.value)
    assert message in str(refused.value)
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_a_bad_file_leaves_a_committed_catalog_as_it_was(tmp_path):
    """Outside a test's own transaction: the load's transaction is the one rolled back."""
    run(minified(tmp_path / "first.json", GOOD[:1]))
    before = snapshot()
    bad = [entry(201, "Renamed"), *GOOD[1:], entry(9, "Bad", episodes="many")]
    with pytest.raises(CommandError, match="entry 4"):
        run(minified(tmp_path / "bad.json", bad), "--batch-size", "1")
    assert snapshot() == before


def test_an_unknown_source_names_the_known_ones(db):
    with pytest.raises(CommandError, match="the known sources are anime-offline-database"):
        call_command("import_catalog", "anidb", str(SAMPLE))


def test_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No file at"):
        run(tmp_path / "nowhere.json")


def test_progress_goes_to_stderr(db):
    out, err = StringIO(), StringIO()
    call_command("import_catalog", SOURCE, str(SAMPLE), stdout=out, stderr=err)
    assert "Anime: 100% of the file, 1 read" in err.getvalue()
    assert "100%" not in out.getvalue()


def test_the_benchmarks_generated_file_loads(db, tmp_path):
    from bench.catalog_import import targets, write_file

    path = write_file(tmp_path / "generated.json", 300)
    assert json.loads(path.read_text())["data"][0]["sources"]
    first, again = run(path, "--batch-size", "100"), run(path)
    assert "300 read" in first and " 0 updated" in first
    assert "0 added, 0 updated" in again
    assert targets("SQLite", {}) == []
