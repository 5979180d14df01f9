"""TV shows through import and export, with no code of their own there: IMDb's series matched
by their IMDb id (in the catalog, else at the provider), a show's position (a season and an
episode) carried by Shelf JSON and CSV and kept within the show's seasons, and nothing written
when a file is bad or an import fails. Where the provider is asked, it is a stand-in
(monkeypatch); elsewhere it has no key, so it never reaches the network."""

from __future__ import annotations

import csv
import datetime
import html
import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from media import exports, importing
from media.imports import FormatError, Row, parse
from media.kinds import KINDS
from media.models import Import, Movie, SavedMovie, SavedShow, Show
from media.providers import PROVIDERS, Record

from .test_export import body, text
from .test_import_formats import IMDB_LIST, IMDB_RATINGS
from .test_importing import open_import, preview, upload
from .test_shows import seasons

SHOW = KINDS["show"]


@pytest.fixture
def shows(db) -> dict[str, Show]:
    return {
        "bad": Show.objects.create(
            title="Breaking Bad", year=2008, tmdb_id=1396, imdb_id="tt0903747",
            seasons=seasons(7, 13, 13, 13, 16, specials=2),
        ),
        "thrones": Show.objects.create(
            title="Game of Thrones", year=2011, tmdb_id=1399, imdb_id="tt0944947",
            seasons=seasons(10, 10, 10, 10, 10, 10, 7, 6),
        ),
        "local": Show.objects.create(title="A Show of Our Own", year=2020, seasons=seasons(4, 6)),
        "unknown": Show.objects.create(title="Still Being Written", year=2024, tmdb_id=999),
    }  # fmt: skip


@pytest.fixture
def tmdb(monkeypatch) -> list[tuple]:
    """TMDB as a stand-in that knows Chernobyl by its IMDb id and finds nothing by title; the
    list of the calls it got."""
    calls = []
    chernobyl = Record(
        provider="tmdb",
        kind="show",
        ids={"tmdb_id": 87108, "imdb_id": "tt7366338"},
        title="Chernobyl",
        year=2019,
        totals={"seasons": seasons(5)},  # the totals follow from the seasons
    )

    def find_imdb(self, imdb, *, kind_key="movie", budget=None):
        calls.append(("find_imdb", imdb, kind_key))
        return chernobyl if (imdb, kind_key) == ("tt7366338", "show") else None

    def search(self, kind_key, query, *, limit=10, budget=None):
        calls.append(("search", query, kind_key))
        return []

    provider = type(PROVIDERS["tmdb"])
    monkeypatch.setattr(provider, "find_imdb", find_imdb)
    monkeypatch.setattr(provider, "search", search)
    monkeypatch.setattr(provider, "kinds", ("movie", "show"))
    return calls


def press_import(client: Client, imp: Import, conflicts: str = "keep"):
    return client.post(f"/import/{imp.pk}/apply/", {"conflicts": conflicts})


def page_of(client: Client, imp: Import) -> str:
    return html.unescape(preview(client, imp).content.decode())


# IMDb: a series is a show.


def test_imdb_ratings_match_series_by_imdb_id_in_the_catalog_and_at_the_provider(
    auth_client, user, shows, tmdb
):
    fight = Movie.objects.create(title="Fight Club", year=1999, tmdb_id=550, imdb_id="tt0137523")
    data = (
        IMDB_RATINGS + "tt0137523,9,2021-03-04,Fight Club,,https://x,Movie,8.8,139,1999,Drama,1,,\n"
        "tt0903747,10,2020-05-18,Breaking Bad,,https://x,TV Series,9.5,49,2008,Drama,1,,\n"
        "tt7366338,9,2020-06-01,Chernobyl,,https://x,TV Mini Series,9.4,330,2019,Drama,1,,\n"
        "tt2301451,10,2020-05-19,Ozymandias,,https://x,TV Episode,10,47,2013,Drama,1,,\n"
    ).encode()
    upload(auth_client, data, "ratings.csv")
    imp = open_import(user)
    assert not Show.objects.filter(imdb_id="tt7366338").exists()  # not before Import
    page = page_of(auth_client, imp)
    assert "New (3)" in page and "Skipped (1)" in page and "It is a TV episode." in page
    # Breaking Bad was in the catalog: only Chernobyl was asked for, as a show.
    assert tmdb == [("find_imdb", "tt7366338", "show")]
    press_import(auth_client, imp)

    bad = SavedShow.objects.get(user=user, show=shows["bad"])
    # A rating is a score, not a place in the show: nothing claims it was watched to the end.
    assert (bad.score, bad.status, bad.position) == (10, "planned", (0, 0))
    assert bad.created.date() == datetime.date(2020, 5, 18)  # the day it was rated
    chernobyl = Show.objects.get(imdb_id="tt7366338")
    assert (chernobyl.tmdb_id, chernobyl.title, chernobyl.episodes) == (87108, "Chernobyl", 5)
    assert SavedShow.objects.get(user=user, show=chernobyl).score == 9
    movie = SavedMovie.objects.get(user=user)
    assert (movie.movie, movie.status, movie.watched) == (fight, "completed", True)
    assert SavedShow.objects.filter(user=user).count() == 2


def test_an_imdb_watchlist_plans_series_and_never_takes_one_back(auth_client, user, shows, tmdb):
    SavedShow.objects.create(
        user=user, show=shows["thrones"], season_progress=3, episode_progress=4,
        status="in_progress",
    )  # fmt: skip
    data = (
        IMDB_LIST
        + "1,tt0903747,2022-01-01,2022-01-01,after work,Breaking Bad,,https://x,tvSeries,9.5,"
        "49,2008,Drama,1,2008-01-20,,,\n"
        "2,tt0944947,2022-01-02,2022-01-02,,Game of Thrones,,https://x,tvSeries,9.2,57,2011,"
        "Drama,1,2011-04-17,,,\n"
        "3,tt7366338,2022-01-03,2022-01-03,,Chernobyl,,https://x,tvMiniSeries,9.4,330,2019,"
        "Drama,1,2019-05-06,,,\n"
        "4,tt2301451,2022-01-04,2022-01-04,,Ozymandias,,https://x,tvEpisode,10,47,2013,Drama,"
        "1,2013-09-15,,,\n"
    ).encode()
    upload(auth_client, data, "WATCHLIST.csv")
    imp = open_import(user)
    page = page_of(auth_client, imp)
    assert "New (2)" in page and "Unchanged (1)" in page and "Skipped (1)" in page
    press_import(auth_client, imp)
    saved = {s.show.imdb_id: s for s in SavedShow.objects.filter(user=user)}
    assert (saved["tt0903747"].status, saved["tt0903747"].note) == ("planned", "after work")
    assert saved["tt7366338"].status == "planned"
    assert (saved["tt0944947"].status, saved["tt0944947"].position) == ("in_progress", (3, 4))


@pytest.mark.parametrize(
    ("title_type", "kind", "reason"),
    [
        ("TV Series", "show", ""),
        ("TV Mini Series", "show", ""),
        ("tvMiniSeries", "show", ""),
        ("TV Episode", "movie", "a TV episode"),
        ("TV Special", "movie", "a TV special, neither a film nor a series"),
        ("Video Game", "movie", "a video game"),
        ("Podcast Series", "movie", "a podcast"),
        ("Music Video", "movie", "a Music Video, not a film or a series"),
        ("TV Movie", "movie", ""),
    ],
)
def test_imdb_title_types_become_shows_or_say_why_they_are_skipped(title_type, kind, reason):
    data = IMDB_RATINGS + f"tt0000042,7,2020-01-01,A Title,,https://x,{title_type},7,1,2000,,1,,\n"
    [row] = parse(data.encode())
    assert (row.kind, row.skip_reason, row.ids) == (kind, reason, {"imdb_id": "tt0000042"})


def test_a_series_the_provider_does_not_describe_is_found_in_the_catalog_alone(
    auth_client, user, shows, monkeypatch
):
    """A provider asked only for its own kinds: no error for a kind it does not serve."""
    monkeypatch.setattr(type(PROVIDERS["tmdb"]), "kinds", ("movie",))
    data = (
        IMDB_RATINGS + "tt1234567,8,2021-01-01,A Show of Our Own,,https://x,TV Series,8,30,2020,,"
        "1,,\n"
    ).encode()
    upload(auth_client, data, "ratings.csv")
    imp = open_import(user)
    assert imp.state == Import.State.READY and "New (1)" in page_of(auth_client, imp)
    press_import(auth_client, imp)
    assert SavedShow.objects.get(user=user).show == shows["local"]


# Shelf JSON and CSV: a show's whole save, there and back.


@pytest.fixture
def watched(user, shows) -> list[SavedShow]:
    """Shows at every kind of position, each field set somewhere, saved on known days."""
    saves = [
        SavedShow.objects.create(user=user, show=shows["bad"], status="planned"),
        SavedShow.objects.create(
            user=user, show=shows["thrones"], season_progress=2, episode_progress=5,
            status="in_progress", score=8, started=datetime.date(2021, 3, 1),
            note='Winter, "coming", ]]> & <b>日本語</b>',
        ),
        SavedShow.objects.create(
            user=user, show=shows["local"], season_progress=2, episode_progress=6,
            status="completed", score=10, started=datetime.date(2020, 1, 2),
            finished=datetime.date(2020, 2, 3), rewatches=2, note="=1+1",
        ),
        SavedShow.objects.create(
            user=user, show=shows["unknown"], season_progress=1, episode_progress=3,
            status="dropped", score=3,
        ),
    ]  # fmt: skip
    for number, saved in enumerate(saves):
        SavedShow.objects.filter(pk=saved.pk).update(
            created=datetime.datetime(2019, 5, 1 + number, 20, 15, tzinfo=datetime.UTC)
        )
        saved.refresh_from_db()
    return saves


def test_shelf_json_round_trips_shows_into_an_empty_account(
    auth_client, user, other_user, watched, tmdb
):
    exported = body(auth_client.get("/export/shelf.json"))
    entries = json.loads(exported)["saves"]
    assert [entry["kind"] for entry in entries] == ["show"] * len(watched)
    assert entries[1]["ids"] == {"tmdb_id": 1399, "imdb_id": "tt0944947"}
    assert entries[1]["tracking"]["season_progress"] == 2
    assert entries[1]["tracking"]["episode_progress"] == 5

    other = Client()
    other.force_login(other_user)
    upload(other, exported, "shelf.json")
    imp = open_import(other_user)
    assert f"New ({len(watched)})" in page_of(other, imp)
    press_import(other, imp)
    for saved in watched:
        theirs = SavedShow.objects.get(user=other_user, show=saved.show)
        for name in SavedShow.tracking_fields:
            assert getattr(theirs, name) == getattr(saved, name), (saved.show, name)
        assert theirs.created == saved.created
    assert SavedShow.objects.filter(user=other_user).count() == len(watched)
    # Each show with an id was found by it in the catalog; the one without, by its title and
    # year, once TMDB had nothing of that name.
    assert tmdb == [("search", "A Show of Our Own", "show")]

    # And importing the same file again changes nothing.
    upload(other, exported, "shelf.json")
    assert f"Unchanged ({len(watched)})" in page_of(other, open_import(other_user))


def test_csv_has_a_row_per_show_with_its_ids_and_position(auth_client, watched):
    content = text(auth_client.get("/export/shelf.csv")).removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(content, newline="")))
    assert [row["kind"] for row in rows] == ["show"] * len(watched)
    for row, saved in zip(rows, watched, strict=True):
        assert (row["title"], row["year"]) == (saved.show.title, str(saved.show.year))
        assert row["tmdb_id"] == exports.csv_cell(saved.show.tmdb_id)
        assert row["imdb_id"] == exports.csv_cell(saved.show.imdb_id)
        for name in SavedShow.tracking_fields:
            assert row[name] == exports.csv_cell(getattr(saved, name)), name
        assert row["watched"] == row["chapter_progress"] == ""  # other kinds' columns
    assert (rows[1]["season_progress"], rows[1]["episode_progress"]) == ("2", "5")
    assert rows[2]["note"] == "'=1+1"  # a formula kept as text


def test_myanimelist_files_leave_shows_out_and_the_page_says_so(auth_client, user, watched):
    assert auth_client.get("/export/show.xml").status_code == 404
    for kind in exports.MAL_KINDS:
        content = body(auth_client.get(f"/export/{kind}.xml"))
        assert parse(content) == []
        assert b"Breaking Bad" not in content
    page = auth_client.get("/export/").content.decode()
    assert f"{len(watched)} saves" in page
    assert (
        "MyAnimeList lists anime and manga only: your movies and TV shows are in Shelf JSON "
        "and CSV" in page
    )


# A position within the show's seasons.


def shelf_file(*entries: dict) -> bytes:
    return json.dumps({"format": "shelf", "version": 1, "saves": list(entries)}).encode()


def show_entry(show: Show, status=None, **tracking) -> dict:
    return {
        "kind": "show",
        "title": show.title,
        "year": show.year,
        "ids": exports.external_ids(show),
        "tracking": {"status": status, **tracking},
    }


def test_positions_past_the_seasons_are_capped_and_said(auth_client, user, shows):
    bad, thrones, local, unknown = shows.values()
    data = shelf_file(
        # Past season 2's 13 episodes, in progress.
        show_entry(bad, "in_progress", season_progress=2, episode_progress=20),
        # Past the last of its 8 seasons: the last episode, so completed.
        show_entry(thrones, "in_progress", season_progress=11, episode_progress=3),
        # Completed moves it to the last episode.
        show_entry(local, "completed", season_progress=1, episode_progress=2),
        # No seasons known: nothing to cap against; planned with progress is in progress.
        show_entry(unknown, "planned", season_progress=4, episode_progress=40),
    )
    upload(auth_client, data, "shelf.json")
    imp = open_import(user)
    page = page_of(auth_client, imp)
    assert "Episode capped at 13, season 2's episodes (the file says 20)." in page
    assert (
        "Capped at season 8, episode 6, the TV show's last (the file says season 11, episode 3)."
        in page
    )
    press_import(auth_client, imp)
    imp.refresh_from_db()
    assert imp.summary["adjusted"] == 2
    saved = {s.show: s for s in SavedShow.objects.filter(user=user)}
    assert (saved[bad].position, saved[bad].status) == ((2, 13), "in_progress")
    assert (saved[thrones].position, saved[thrones].status) == ((8, 6), "completed")
    assert (saved[local].position, saved[local].status) == ((2, 6), "completed")
    assert (saved[unknown].position, saved[unknown].status) == ((4, 40), "in_progress")


@pytest.mark.parametrize(
    ("status", "position", "values", "note"),
    [
        (None, {}, {}, None),  # a rating alone: nothing of where
        ("planned", (0, 0), {"season_progress": 0, "episode_progress": 0, "status": "planned"},
         None),
        ("planned", (1, 0), {"season_progress": 1, "episode_progress": 0, "status": "planned"},
         None),  # a season started, no episode watched: not in progress yet
        (None, (3, 1), {"season_progress": 3, "episode_progress": 1, "status": "in_progress"},
         None),
        ("on_hold", (5, 16), {"season_progress": 5, "episode_progress": 16, "status": "on_hold"},
         None),  # at the end, but the file says on hold: as it says
        ("completed", {}, {"season_progress": 5, "episode_progress": 16, "status": "completed"},
         None),
        (None, (5, 16), {"season_progress": 5, "episode_progress": 16, "status": "completed"},
         None),  # the last episode is completed
        (None, (0, 2), {"season_progress": 0, "episode_progress": 0},
         "Season 0 holds the specials, which are not on the way through: its episode 2 is "
         "left out (not started)."),
        (None, {"season_progress": 2}, {}, "The file gives a season or an episode, not both: "
         "left out."),
    ],
)  # fmt: skip
def test_what_a_files_position_sets(shows, status, position, values, note):
    progress = (
        dict(zip(("season_progress", "episode_progress"), position, strict=True))
        if isinstance(position, tuple)
        else position
    )
    row = Row(
        kind="show", title="Breaking Bad", year=2008, ids={}, status=status, progress=progress,
        score=None, note="", started=None, finished=None, watched_on=None, rewatches=0, line=1,
    )  # fmt: skip
    found, notes = importing.file_values(SHOW, row, shows["bad"])
    assert found == values
    assert notes == ([note] if note else [])


@pytest.mark.parametrize(
    ("choice", "position", "score"), [("keep", (2, 0), 7), ("take", (3, 3), 9)]
)
def test_the_season_and_the_episode_are_kept_or_taken_together(
    auth_client, user, shows, choice, position, score
):
    SavedShow.objects.create(
        user=user, show=shows["bad"], season_progress=2, episode_progress=0,
        status="in_progress", score=7,
    )  # fmt: skip
    data = shelf_file(
        show_entry(shows["bad"], "in_progress", season_progress=3, episode_progress=3, score=9)
    )
    upload(auth_client, data, "shelf.json")
    imp = open_import(user)
    page = page_of(auth_client, imp)
    # The episode was 0, which alone would not conflict; but it goes with the season.
    assert 'Season: 2 → 3 <strong class="conflict">conflict</strong>' in page
    assert 'Episode: 0 → 3 <strong class="conflict">conflict</strong>' in page
    press_import(auth_client, imp, choice)
    saved = SavedShow.objects.get(user=user)
    assert (saved.position, saved.score, saved.status) == (position, score, "in_progress")


# Nothing half-written.


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        ({"season_progress": "two", "episode_progress": 1}, "Entry 2: the season 'two' is not"),
        ({"season_progress": 1, "episode_progress": -1}, "Entry 2: the episode -1 is not valid"),
        ({"season_progress": 1, "episode_progress": 40000}, "Entry 2: the episode 40000 is"),
        ({"status": "watching"}, "Entry 2: the status 'watching' is none of"),
    ],
)
def test_a_bad_show_entry_refuses_the_whole_file(auth_client, user, shows, tracking, message):
    data = shelf_file(
        show_entry(shows["thrones"], "in_progress", season_progress=1, episode_progress=2),
        show_entry(shows["bad"]) | {"tracking": tracking},
    )
    with pytest.raises(FormatError, match=message):
        parse(data)
    answer = upload(auth_client, data, "shelf.json")
    assert answer.status_code == 422
    assert message in html.unescape(answer.content.decode())
    assert not Import.objects.exists() and not SavedShow.objects.exists()


def test_an_import_that_fails_on_its_shows_writes_nothing_at_all(
    auth_client, user, shows, tmdb, monkeypatch
):
    """The movies are written before the shows: they are taken back, and the provider's show
    that joined the catalog for the import leaves it again."""
    Movie.objects.create(title="Fight Club", year=1999, imdb_id="tt0137523")
    data = (
        IMDB_RATINGS + "tt0137523,9,2021-03-04,Fight Club,,https://x,Movie,8.8,139,1999,Drama,1,,\n"
        "tt0903747,10,2020-05-18,Breaking Bad,,https://x,TV Series,9.5,49,2008,Drama,1,,\n"
        "tt7366338,9,2020-06-01,Chernobyl,,https://x,TV Mini Series,9.4,330,2019,Drama,1,,\n"
    ).encode()
    upload(auth_client, data, "ratings.csv")
    imp = open_import(user)
    assert "New (3)" in page_of(auth_client, imp)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SavedShow.objects, "bulk_create", broken)
    press_import(auth_client, imp)
    imp.refresh_from_db()
    assert imp.state == Import.State.FAILED and imp.rows == []
    assert not SavedMovie.objects.exists() and not SavedShow.objects.exists()
    assert not Show.objects.filter(imdb_id="tt7366338").exists()
    assert "nothing was imported" in page_of(auth_client, imp)


def test_dates_in_the_future_are_left_out_of_a_show(auth_client, user, shows):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    data = shelf_file(
        show_entry(shows["bad"], "in_progress", season_progress=1, episode_progress=2,
                   started=tomorrow.isoformat())
    )  # fmt: skip
    upload(auth_client, data, "shelf.json")
    imp = open_import(user)
    assert f"The started date {tomorrow} is in the future: left out." in page_of(auth_client, imp)
    press_import(auth_client, imp)
    saved = SavedShow.objects.get(user=user)
    assert (saved.position, saved.started) == ((1, 2), None)


def test_an_imdb_series_found_at_tmdb_arrives_with_its_seasons(
    auth_client, user, network, settings
):
    """TMDB's /find answers a search result's fields; the show's own record (/tv/{id}) adds
    its seasons, totals and status, so a show imported from IMDb is tracked like any other."""
    from .test_importing import PROVIDERS as FIXTURES
    from .test_importing import press_import

    settings.TMDB_API_KEY = "k" * 32
    found = json.loads((FIXTURES / "tmdb_tv_find.json").read_text())
    details = json.loads((FIXTURES / "tmdb_tv_details.json").read_text())
    network.get("https://tmdb.test/3/find/tt0903747").respond(json=found)
    network.get("https://tmdb.test/3/tv/1396").respond(json=details)
    data = IMDB_RATINGS + (
        "tt0903747,10,2021-03-04,Breaking Bad,Breaking Bad,https://www.imdb.com/title/tt0903747/,"
        "TV Series,9.5,49,2008,Drama,2000000,2008-01-20,\n"
    )
    upload(auth_client, data.encode(), "ratings.csv")
    press_import(auth_client, open_import(user))
    saved = SavedShow.objects.get(user=user)
    show = saved.show
    assert (show.tmdb_id, show.imdb_id) == (1396, "tt0903747")
    assert (show.season_count, show.episodes, show.release_status) == (5, 62, "finished")
    assert show.specials and show.episodes_in(5) == 16
    assert saved.score == 10 and saved.position == (0, 0)


def test_a_position_past_an_announced_season_or_in_a_missing_one_is_never_refused(user, db):
    """An announced last season (no episodes yet) is not where a capped position lands, and a
    season the show does not list leaves the position out: neither reaches the database's
    guards, which would refuse them."""
    announced = Show.objects.create(title="Announced", year=2020, seasons=seasons(6, 6, 0))
    values, notes = SavedShow.file_progress(
        announced, {"season_progress": 5, "episode_progress": 3}, completed=False
    )
    assert values == {"season_progress": 2, "episode_progress": 6}
    assert notes == [
        "Capped at season 2, episode 6, the TV show's last (the file says season 5, episode 3)."
    ]
    gaps = Show.objects.create(
        title="Gaps",
        year=2020,
        seasons=[{"number": 2, "episodes": 4}, {"number": 5, "episodes": 9}],
    )
    values, notes = SavedShow.file_progress(
        gaps, {"season_progress": 3, "episode_progress": 1}, completed=False
    )
    assert values == {}
    assert notes == ["Season 3 is not one of the TV show's (2, 5): the position is left out."]
    values, _ = SavedShow.file_progress(
        gaps, {"season_progress": 3, "episode_progress": 1}, completed=True
    )
    assert values == {"season_progress": 5, "episode_progress": 9}
    SavedShow.objects.create(user=user, show=gaps, **values)  # the database takes it


def test_an_imdb_series_whose_details_cannot_be_read_is_left_unmatched(
    auth_client, user, network, settings
):
    """Found by its IMDb id, but TMDB fails to describe it: the row waits unmatched (with
    the reason) rather than bringing a show without seasons into the catalog."""
    from .test_importing import PROVIDERS as FIXTURES

    settings.TMDB_API_KEY = "k" * 32
    found = json.loads((FIXTURES / "tmdb_tv_find.json").read_text())
    network.get("https://tmdb.test/3/find/tt0903747").respond(json=found)
    network.get("https://tmdb.test/3/tv/1396").respond(status_code=404, json={})
    data = IMDB_RATINGS + (
        "tt0903747,10,2021-03-04,Breaking Bad,Breaking Bad,https://www.imdb.com/title/tt0903747/,"
        "TV Series,9.5,49,2008,Drama,2000000,2008-01-20,\n"
    )
    upload(auth_client, data.encode(), "ratings.csv")
    page = preview(auth_client, open_import(user)).content.decode()
    assert "Unmatched (1)" in page
    assert not Show.objects.exists()
