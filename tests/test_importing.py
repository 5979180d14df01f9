"""Importing a list: upload, matching, the preview, applying, and what must never happen
(a half-written import, a duplicate, another person's import, a 500)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from media import importing
from media.kinds import KINDS
from media.models import Anime, Import, Movie, SavedAnime, SavedManga, SavedMovie

from .conftest import HTMX

PROVIDERS = Path(__file__).resolve().parent / "fixtures" / "providers"
ANIME, MANGA, MOVIE = KINDS["anime"], KINDS["manga"], KINDS["movie"]


def anime_entry(mal_id, title, *, watched=0, status="Watching", score=0, start="0000-00-00",
                finish="0000-00-00", times=0, comments="", episodes=0) -> str:  # fmt: skip
    return f"""
  <anime>
    <series_animedb_id>{mal_id}</series_animedb_id>
    <series_title><![CDATA[{title}]]></series_title>
    <series_type>TV</series_type>
    <series_episodes>{episodes}</series_episodes>
    <my_id>0</my_id>
    <my_watched_episodes>{watched}</my_watched_episodes>
    <my_start_date>{start}</my_start_date>
    <my_finish_date>{finish}</my_finish_date>
    <my_score>{score}</my_score>
    <my_status>{status}</my_status>
    <my_comments><![CDATA[{comments}]]></my_comments>
    <my_times_watched>{times}</my_times_watched>
    <my_rewatching>0</my_rewatching>
    <update_on_import>1</update_on_import>
  </anime>"""


def mal_file(*entries: str, kind: str = "anime") -> bytes:
    export_type = "1" if kind == "anime" else "2"
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        "<!-- Created by XML Export feature at MyAnimeList.net. Version 1.1.0 -->\n"
        f"<myanimelist><myinfo><user_export_type>{export_type}</user_export_type></myinfo>"
        + "".join(entries)
        + "</myanimelist>"
    ).encode()


@pytest.fixture
def catalog(db):
    """Three anime with MyAnimeList ids, as the catalog has them."""
    return {
        "bebop": Anime.objects.create(title="Cowboy Bebop", year=1998, episodes=26, mal_id=1),
        "trigun": Anime.objects.create(title="Trigun", year=1998, episodes=26, mal_id=6),
        "airing": Anime.objects.create(title="One Piece", year=1999, episodes=None, mal_id=21),
    }


def upload(client: Client, data: bytes, name: str = "animelist.xml", **extra):
    return client.post("/import/", {"file": SimpleUploadedFile(name, data)}, **extra)


def open_import(user) -> Import:
    return Import.objects.get(user=user, state__in=Import.OPEN)


def preview(client: Client, imp: Import):
    return client.get(f"/import/{imp.pk}/")


def press_import(client: Client, imp: Import, conflicts: str = "keep"):
    return client.post(f"/import/{imp.pk}/apply/", {"conflicts": conflicts})


# The page.


def test_import_page_has_the_form(auth_client):
    page = auth_client.get("/import/").content.decode()
    assert 'type="file"' in page and ">File</label>" in page
    assert ">Preview</button>" in page


def test_import_needs_an_account(client, db):
    assert client.get("/import/").status_code == 302
    assert client.post("/import/", {}).status_code == 302


# Upload, preview, import.


def test_a_mal_file_is_previewed_then_imported(auth_client, user, catalog):
    data = mal_file(
        anime_entry(1, "Cowboy Bebop", watched=26, status="Completed", score=9,
                    start="2020-01-02", finish="2020-02-03", times=2, comments="Space jazz"),
        anime_entry(6, "Trigun", watched=3, status="Watching", score=0),
    )  # fmt: skip
    answer = upload(auth_client, data)
    assert answer.status_code == 303
    imp = open_import(user)
    assert answer["Location"] == f"/import/{imp.pk}/"
    assert imp.state == Import.State.READY  # the worker ran (the tests' tasks run at once)
    assert not SavedAnime.objects.exists()  # nothing written before Import

    page = preview(auth_client, imp).content.decode()
    assert "New (2)" in page and ">Import</button>" in page
    assert "Status: Completed" in page

    assert press_import(auth_client, imp).status_code == 303
    imp.refresh_from_db()
    assert imp.state == Import.State.DONE and imp.rows == []
    assert imp.summary["new"] == 2
    bebop = SavedAnime.objects.get(user=user, anime=catalog["bebop"])
    assert (bebop.status, bebop.episode_progress, bebop.score) == ("completed", 26, 9)
    assert bebop.note == "Space jazz"
    assert bebop.started == datetime.date(2020, 1, 2)
    assert bebop.finished == datetime.date(2020, 2, 3)
    assert bebop.rewatches == 2
    # The save is dated from the file, not today.
    assert bebop.created.date() == datetime.date(2020, 1, 2)
    trigun = SavedAnime.objects.get(user=user, anime=catalog["trigun"])
    assert (trigun.status, trigun.episode_progress, trigun.score) == ("in_progress", 3, None)
    assert trigun.started is None and trigun.created.date() == timezone.localdate()


def test_reimporting_the_same_file_is_all_unchanged_and_writes_nothing(auth_client, user, catalog):
    data = mal_file(
        anime_entry(1, "Cowboy Bebop", watched=26, status="Completed", score=9, times=1),
        anime_entry(6, "Trigun", watched=30, status="Watching"),  # past the total: capped
        anime_entry(21, "One Piece", watched=1000, status="Watching", start="2019-05-01"),
    )
    upload(auth_client, data)
    press_import(auth_client, open_import(user))
    before = {s.pk: s.updated for s in SavedAnime.objects.all()}

    upload(auth_client, data)
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert "Unchanged (3)" in page
    assert ">Import</button>" not in page and "Nothing to import" in page
    press_import(auth_client, imp)
    imp.refresh_from_db()
    assert imp.summary["new"] == imp.summary["updated"] == 0
    assert {s.pk: s.updated for s in SavedAnime.objects.all()} == before
    assert SavedAnime.objects.count() == 3


def test_progress_past_the_total_is_capped_and_the_cap_listed(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(6, "Trigun", watched=30, status="Watching")))
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert "Episodes capped at 26" in page and "the file says 30" in page
    press_import(auth_client, imp)
    saved = SavedAnime.objects.get(user=user)
    assert (saved.episode_progress, saved.status) == (26, "completed")


def test_an_updated_title_shows_old_and_new(auth_client, user, catalog):
    SavedAnime.objects.create(user=user, anime=catalog["trigun"], episode_progress=0)
    upload(auth_client, mal_file(anime_entry(6, "Trigun", watched=4, score=7)))
    page = preview(auth_client, open_import(user)).content.decode()
    assert "Updated (1)" in page
    assert "Episodes watched: 0 → 4" in page and "Score (1–10): — → 7" in page
    assert "conflict" not in page.split("Updated (1)")[1]  # filling what was empty


@pytest.mark.parametrize(("choice", "score", "progress"), [("keep", 5, 10), ("take", 8, 12)])
def test_conflicts_follow_the_one_choice(auth_client, user, catalog, choice, score, progress):
    SavedAnime.objects.create(
        user=user, anime=catalog["trigun"], episode_progress=10, score=5, status="in_progress"
    )
    upload(auth_client, mal_file(anime_entry(6, "Trigun", watched=12, score=8, comments="Hi")))
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert "disagree" in page and 'value="keep" checked' in page and 'value="take"' in page
    assert 'Score (1–10): 5 → 8 <strong class="conflict">conflict</strong>' in page
    press_import(auth_client, imp, choice)
    saved = SavedAnime.objects.get(user=user)
    assert (saved.score, saved.episode_progress) == (score, progress)
    assert saved.note == "Hi"  # an empty note is filled whatever the choice


def test_pressing_import_twice_imports_once(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop", watched=2)))
    imp = open_import(user)
    press_import(auth_client, imp)
    again = press_import(auth_client, imp)
    assert again.status_code == 303
    assert SavedAnime.objects.count() == 1
    imp.refresh_from_db()
    assert imp.state == Import.State.DONE


def test_an_import_that_fails_writes_nothing(auth_client, user, catalog, monkeypatch):
    upload(
        auth_client,
        mal_file(anime_entry(1, "Cowboy Bebop", watched=2), anime_entry(6, "Trigun", watched=1)),
    )
    imp = open_import(user)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SavedAnime.objects, "bulk_create", broken)
    press_import(auth_client, imp)
    imp.refresh_from_db()
    assert imp.state == Import.State.FAILED and imp.rows == []
    assert not SavedAnime.objects.exists()
    page = preview(auth_client, imp).content.decode()
    assert "nothing was imported" in page


def test_the_worker_reports_its_progress_and_the_page_polls(auth_client, user, catalog, settings):
    # With a queue that does not run at once, the page shows matching in progress.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop", watched=2)))
    imp = open_import(user)
    assert imp.state == Import.State.MATCHING
    page = preview(auth_client, imp).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript, inside <noscript>
    assert ">Reload</a>" in page
    importing.match_import.call(imp.pk)
    partial = auth_client.get(f"/import/{imp.pk}/", **HTMX)
    assert partial.status_code == 200 and b"<html" not in partial.content
    assert b"New (1)" in partial.content and b"every 1s" not in partial.content
    assert "HX-Request" in partial["Vary"]


# Matching.


def test_a_title_the_catalog_lacks_is_found_at_the_provider_and_added_on_import(
    auth_client, user, network
):
    body = json.loads((PROVIDERS / "jikan_anime_detail.json").read_text())
    network.get("https://jikan.test/v4/anime/457").respond(json=body)
    upload(auth_client, mal_file(anime_entry(457, "Mushishi", watched=3)))
    imp = open_import(user)
    assert not Anime.objects.filter(mal_id=457).exists()  # not before Import
    assert "New (1)" in preview(auth_client, imp).content.decode()
    press_import(auth_client, imp)
    anime = Anime.objects.get(mal_id=457)
    assert SavedAnime.objects.get(user=user).anime == anime


def test_an_unknown_title_is_unmatched_then_picked_or_skipped(auth_client, user, catalog, network):
    network.get("https://jikan.test/v4/anime/99999").respond(
        404, json=json.loads((PROVIDERS / "jikan_error_404.json").read_text())
    )
    network.get(url__startswith="https://jikan.test/v4/anime").respond(json={"data": []})
    upload(
        auth_client,
        mal_file(
            anime_entry(99999, "Cowboy Bebop (typo)", watched=1),
            anime_entry(99998, "Nowhere", watched=1),
        ),
    )
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert "Unmatched (2)" in page and "“Cowboy Bebop (typo)”" in page
    found = auth_client.get(f"/import/{imp.pk}/rows/0/?q=bebop").content.decode()
    assert "Cowboy Bebop" in found and "This one" in found
    assert (
        auth_client.post(f"/import/{imp.pk}/rows/0/", {"item": catalog["bebop"].pk}).status_code
        == 303
    )
    assert auth_client.post(f"/import/{imp.pk}/rows/1/", {"skip": "on"}).status_code == 303
    page = preview(auth_client, imp).content.decode()
    assert "New (1)" in page and "Skipped (1)" in page and "You chose to skip it." in page
    press_import(auth_client, imp)
    assert SavedAnime.objects.get(user=user).anime == catalog["bebop"]


def test_a_provider_that_is_down_leaves_rows_unmatched_not_failed(
    auth_client, user, network, fake_time
):
    network.get(url__startswith="https://jikan.test/v4/").mock(
        side_effect=httpx.ConnectError("down")
    )
    upload(auth_client, mal_file(*(anime_entry(n, f"Show {n}") for n in range(100, 106))))
    imp = open_import(user)
    assert imp.state == Import.State.READY
    page = preview(auth_client, imp).content.decode()
    assert "Unmatched (6)" in page and "could not be reached" in page
    # It stopped asking after a few failures instead of waiting on every row.
    asked = {str(call.request.url) for call in network.calls}
    assert any(url.endswith("/anime/100") for url in asked)
    assert not any(url.endswith(("/anime/104", "/anime/105")) for url in asked)


def test_an_imdb_ratings_file_matches_by_imdb_id_and_skips_episodes(auth_client, user, db):
    movie = Movie.objects.create(title="Fight Club", year=1999, tmdb_id=550, imdb_id="tt0137523")
    data = (
        b"Const,Your Rating,Date Rated,Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,"
        b"Genres,Num Votes,Release Date,Directors\n"
        b"tt0137523,9,2021-03-04,Fight Club,https://www.imdb.com/title/tt0137523/,Movie,8.8,"
        b'139,1999,"Drama",2000000,1999-10-15,David Fincher\n'
        b"tt0959621,8,2021-03-05,Pilot,https://www.imdb.com/title/tt0959621/,TV Episode,9,"
        b"58,2008,Drama,1000,2008-01-20,Vince Gilligan\n"
    )
    upload(auth_client, data, "ratings.csv")
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert "New (1)" in page and "Skipped (1)" in page and "It is a TV episode." in page
    press_import(auth_client, imp)
    saved = SavedMovie.objects.get(user=user)
    assert saved.movie == movie and saved.watched and saved.score == 9
    assert saved.watched_on == datetime.date(2021, 3, 4)


def test_letterboxd_rows_match_by_title_and_year_at_tmdb(auth_client, user, network, settings):
    settings.TMDB_API_KEY = "k" * 32
    body = json.loads((PROVIDERS / "tmdb_search_movie.json").read_text())
    network.get(url__startswith="https://tmdb.test/3/search/movie").respond(json=body)
    first = body["results"][0]
    # The search result has no runtime: the movie's own record is read for it.
    details = json.loads((PROVIDERS / "tmdb_movie_details.json").read_text())
    details |= {"id": first["id"], "title": first["title"], "release_date": first["release_date"]}
    network.get(f"https://tmdb.test/3/movie/{first['id']}").respond(json=details)
    year = int(first["release_date"][:4])
    data = (
        "Date,Name,Year,Letterboxd URI,Rating\n"
        f'2022-05-06,"{first["title"]}",{year},https://boxd.it/abc,4.5\n'
    ).encode()
    upload(auth_client, data, "ratings.csv")
    imp = open_import(user)
    assert "New (1)" in preview(auth_client, imp).content.decode()
    press_import(auth_client, imp)
    saved = SavedMovie.objects.get(user=user)
    assert saved.movie.tmdb_id == first["id"] and saved.score == 9
    assert saved.movie.runtime_minutes == details["runtime"]
    assert saved.movie.imdb_id == details["imdb_id"]
    assert saved.created.date() == datetime.date(2022, 5, 6)


def test_without_a_provider_a_title_is_matched_in_the_catalog_by_name_and_year(
    auth_client, user, db
):
    movie = Movie.objects.create(title="Spirited Away", year=2001)
    data = "Date,Name,Year,Letterboxd URI\n2020-01-01,spirited away,2001,https://boxd.it/x\n"
    upload(auth_client, data.encode(), "watched.csv")  # no TMDB key: the catalog answers
    press_import(auth_client, open_import(user))
    assert SavedMovie.objects.get(user=user).movie == movie


def test_a_manga_file_maps_chapters_and_volumes(auth_client, user, db):
    manga = KINDS["manga"].item_model.objects.create(
        title="Akira", year=1982, chapters=120, volumes=6, mal_id=664
    )
    data = mal_file(
        """<manga><manga_mangadb_id>664</manga_mangadb_id><manga_title><![CDATA[Akira]]></manga_title>
        <my_read_volumes>2</my_read_volumes><my_read_chapters>40</my_read_chapters>
        <my_start_date>2019-01-01</my_start_date><my_finish_date>0000-00-00</my_finish_date>
        <my_score>8</my_score><my_status>Reading</my_status><my_times_read>1</my_times_read>
        <my_rereading>NO</my_rereading><update_on_import>1</update_on_import></manga>""",
        kind="manga",
    )
    upload(auth_client, data, "mangalist.xml")
    press_import(auth_client, open_import(user))
    saved = SavedManga.objects.get(user=user)
    assert saved.manga == manga
    assert (saved.chapter_progress, saved.volume_progress, saved.status) == (40, 2, "in_progress")
    assert saved.rewatches == 1 and saved.started == datetime.date(2019, 1, 1)


# Bad input.


def test_a_file_that_is_no_list_is_refused_with_a_message(auth_client, user):
    answer = upload(auth_client, b"hello,world\n1,2\n", "list.csv")
    assert answer.status_code == 422
    assert "This is not a file Shelf can import" in answer.content.decode()
    assert not Import.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
        b"<myanimelist>&lol;</myanimelist>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<myanimelist>&e;</myanimelist>",
        b"\x1f\x8b\x08\x00broken gzip",
        b"<myanimelist><anime><series_animedb_id>x</series_animedb_id></anime></myanimelist>",
        b"PK\x03\x04 not really a zip",
    ],
    ids=["entity-expansion", "external-entity", "corrupted-gzip", "junk-id", "corrupted-zip"],
)
def test_hostile_or_broken_files_get_422_and_write_nothing(auth_client, user, data):
    answer = upload(auth_client, data, "animelist.xml")
    assert answer.status_code == 422
    assert b'class="field-error"' in answer.content
    assert not Import.objects.exists()


def test_a_file_over_the_limit_is_refused(auth_client, user, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD", 1000)
    answer = upload(auth_client, b"x" * 1001, "big.csv")
    assert answer.status_code == 400
    assert "Shelf imports files of up to" in answer.content.decode()
    assert not Import.objects.exists()


def test_no_file_is_a_400(auth_client):
    answer = auth_client.post("/import/", {})
    assert answer.status_code == 400 and b"This field is required" in answer.content


def test_an_empty_list_is_refused(auth_client, user):
    answer = upload(auth_client, mal_file())
    assert answer.status_code == 422 and b"has no entries" in answer.content


# Whose import, and when it ends.


def test_another_persons_import_is_404(auth_client, user, other_user, catalog):
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    imp = open_import(user)
    other = Client()
    other.force_login(other_user)
    assert other.get(f"/import/{imp.pk}/").status_code == 404
    assert other.post(f"/import/{imp.pk}/apply/").status_code == 404
    assert other.post(f"/import/{imp.pk}/cancel/").status_code == 404
    assert other.get(f"/import/{imp.pk}/rows/0/").status_code == 404
    assert other.post(f"/import/{imp.pk}/rows/0/", {"skip": "on"}).status_code == 404
    imp.refresh_from_db()
    assert imp.state == Import.State.READY and not SavedAnime.objects.exists()


def test_cancel_drops_the_upload(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    imp = open_import(user)
    assert auth_client.post(f"/import/{imp.pk}/cancel/").status_code == 303
    imp.refresh_from_db()
    assert imp.state == Import.State.CANCELLED and imp.rows == []
    assert press_import(auth_client, imp).status_code == 303
    assert not SavedAnime.objects.exists()


def test_a_new_upload_replaces_an_unfinished_preview(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    first = open_import(user)
    upload(auth_client, mal_file(anime_entry(6, "Trigun")))
    first.refresh_from_db()
    assert first.state == Import.State.CANCELLED and first.rows == []
    assert open_import(user).pk != first.pk


def test_an_abandoned_preview_is_dropped_after_a_day(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    imp = open_import(user)
    later = timezone.now() + importing.ABANDON_AFTER + datetime.timedelta(minutes=1)
    assert importing.abandon_stale(later) == 1
    imp.refresh_from_db()
    assert imp.state == Import.State.CANCELLED and imp.rows == []


def test_an_upload_while_an_import_is_applied_waits(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    Import.objects.update(state=Import.State.APPLYING)
    answer = upload(auth_client, mal_file(anime_entry(6, "Trigun")))
    assert answer.status_code == 409
    assert "being written to your list" in answer.content.decode()
    assert Import.objects.count() == 1


def test_the_daily_refresh_drops_abandoned_uploads(auth_client, user, catalog):
    from media.tasks import refresh_catalog

    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    imp = open_import(user)
    Import.objects.filter(pk=imp.pk).update(
        updated=timezone.now() - importing.ABANDON_AFTER - datetime.timedelta(minutes=1)
    )
    refresh_catalog.call()
    imp.refresh_from_db()
    assert imp.state == Import.State.CANCELLED and imp.rows == []


def test_what_tracking_refuses_is_adjusted_and_listed(auth_client, user, catalog):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    upload(
        auth_client,
        mal_file(
            anime_entry(1, "Cowboy Bebop", watched=3, times=5000, comments="x" * 600,
                        start=tomorrow),
            anime_entry(6, "Trigun", watched=3, start="2020-05-01", finish="2020-04-01"),
        ),
    )  # fmt: skip
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert "Rewatches capped at 999 (the file says 5000)" in page
    assert "Note shortened to 500 characters" in page
    assert f"The started date {tomorrow} is in the future: left out." in page
    assert "The finish date is before the start date: both left out." in page
    press_import(auth_client, imp)
    bebop = SavedAnime.objects.get(anime=catalog["bebop"])
    assert (bebop.rewatches, len(bebop.note), bebop.started) == (999, 500, None)
    trigun = SavedAnime.objects.get(anime=catalog["trigun"])
    assert (trigun.started, trigun.finished) == (None, None)


def test_a_letterboxd_export_zip_is_imported_one_save_per_film(auth_client, user, db):
    from tests.test_import_letterboxd import EXPORT, make_zip

    tiger = Movie.objects.create(title="Crouching Tiger, Hidden Dragon", year=2000)
    paris = Movie.objects.create(title="Paris, Texas", year=1984)
    heat = Movie.objects.create(title="Heat", year=1995)
    upload(auth_client, make_zip(EXPORT), "letterboxd-someone-2024-01-01-12-00-utc.zip")
    imp = open_import(user)
    assert imp.format_label == "Letterboxd export (ZIP)"
    press_import(auth_client, imp)
    saves = {s.movie: s for s in SavedMovie.objects.filter(user=user)}
    assert set(saves) == {tiger, paris, heat}
    assert (saves[tiger].score, saves[tiger].rewatches) == (9, 1)
    assert saves[tiger].watched_on == datetime.date(2021, 2, 28)
    assert saves[tiger].created.date() == datetime.date(2019, 12, 1)
    assert (saves[heat].status, saves[heat].watched) == ("planned", False)


def test_the_upload_is_not_kept_on_disk(auth_client, user, catalog, settings, tmp_path):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    assert upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop"))).status_code == 303
    assert upload(auth_client, b"not a list", "x.csv").status_code == 422
    assert list(tmp_path.iterdir()) == []


def test_matching_that_breaks_fails_the_import_with_a_message(
    auth_client, user, catalog, monkeypatch
):
    def broken(*args):
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(importing, "_match_one", broken)
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    imp = Import.objects.get(user=user)
    assert imp.state == Import.State.FAILED and imp.rows == []
    page = preview(auth_client, imp).content.decode()
    assert "Something went wrong while finding the titles" in page
    # It is not open any more: the next upload is not blocked by it.
    monkeypatch.undo()
    assert upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop"))).status_code == 303


def test_shelf_json_round_trips_into_an_empty_account(
    auth_client, user, other_user, catalog, network
):
    """Everything a person tracks, exported as Shelf JSON and imported by someone with an empty
    account, gives the same saves: every tracking field, and when each was saved."""
    network.get(url__startswith="https://jikan.test/v4/manga").respond(json={"data": []})
    manga = KINDS["manga"].item_model
    local_manga = manga.objects.create(title="A Local Manga", year=2001, chapters=40)  # no ids
    movie = Movie.objects.create(title="Fight Club", year=1999, tmdb_id=550, imdb_id="tt0137523")
    local_movie = Movie.objects.create(title="Home Video", year=2010)  # no ids
    saves = [
        SavedAnime.objects.create(
            user=user, anime=catalog["bebop"], episode_progress=26, status="completed", score=9,
            note="Space jazz, “quoted”, ]]> & <tags>", started=datetime.date(2020, 1, 2),
            finished=datetime.date(2020, 2, 3), rewatches=2,
        ),
        SavedAnime.objects.create(
            user=user, anime=catalog["airing"], episode_progress=1000, status="on_hold"
        ),
        SavedManga.objects.create(
            user=user, manga=local_manga, chapter_progress=12, volume_progress=1,
            status="in_progress", started=datetime.date(2021, 5, 6),
        ),
        SavedMovie.objects.create(
            user=user, movie=movie, watched=True, watched_on=datetime.date(2019, 7, 8),
            status="completed", score=10, rewatches=3,
        ),
        SavedMovie.objects.create(user=user, movie=local_movie, status="dropped", note="meh"),
    ]  # fmt: skip
    for number, saved in enumerate(saves):
        type(saved).objects.filter(pk=saved.pk).update(
            created=datetime.datetime(2018, 1, 1 + number, 8, 30, tzinfo=datetime.UTC)
        )
    exported = b"".join(auth_client.get("/export/shelf.json").streaming_content)

    other = Client()
    other.force_login(other_user)
    upload(other, exported, "shelf.json")
    imp = open_import(other_user)
    assert "New (5)" in preview(other, imp).content.decode()
    press_import(other, imp)

    for saved in saves:
        saved.refresh_from_db()
        model = type(saved)
        theirs = model.objects.get(user=other_user, **{saved.item_field: saved.item})
        for name in model.tracking_fields:
            assert getattr(theirs, name) == getattr(saved, name), (saved, name)
        assert theirs.created == saved.created
    assert sum(k.saved_model.objects.filter(user=other_user).count() for k in KINDS.values()) == 5

    # And importing the same file again changes nothing.
    upload(other, exported, "shelf.json")
    assert "Unchanged (5)" in preview(other, open_import(other_user)).content.decode()


# What a review found: keep the save whole, never a namesake, never stuck.


def test_dates_that_would_end_before_they_start_are_left_out_not_failed(auth_client, user, catalog):
    SavedAnime.objects.create(
        user=user, anime=catalog["trigun"], finished=datetime.date(2020, 1, 1), episode_progress=2
    )
    upload(auth_client, mal_file(anime_entry(6, "Trigun", watched=2, start="2021-01-01")))
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert "would put the finish before the start you track: left out" in page
    press_import(auth_client, imp, "take")
    imp.refresh_from_db()
    assert imp.state == Import.State.DONE
    saved = SavedAnime.objects.get(user=user)
    assert (saved.started, saved.finished) == (None, datetime.date(2020, 1, 1))


def test_keep_mine_keeps_status_and_progress_together(auth_client, user, db):
    movie = Movie.objects.create(title="Fight Club", year=1999, imdb_id="tt0137523")
    SavedMovie.objects.create(user=user, movie=movie, status="in_progress")
    data = (
        b"Const,Your Rating,Date Rated,Title,Title Type,Year\n"
        b"tt0137523,9,2021-03-04,Fight Club,Movie,1999\n"
    )
    upload(auth_client, data, "ratings.csv")
    imp = open_import(user)
    page = preview(auth_client, imp).content.decode()
    assert page.count('class="conflict"') == 3  # status, watched and its date go together
    press_import(auth_client, imp, "keep")
    saved = SavedMovie.objects.get(user=user)
    assert (saved.status, saved.watched, saved.watched_on) == ("in_progress", False, None)
    assert saved.score == 9  # what was empty is filled all the same


def test_a_watchlist_never_takes_a_watched_film_back_to_planned(auth_client, user, db):
    movie = Movie.objects.create(title="Heat", year=1995)
    SavedMovie.objects.create(
        user=user,
        movie=movie,
        status="completed",
        watched=True,
        watched_on=datetime.date(2020, 1, 1),
    )
    upload(auth_client, b"Date,Name,Year,Letterboxd URI\n2022-07-07,Heat,1995,x\n", "watchlist.csv")
    imp = open_import(user)
    assert "Unchanged (1)" in preview(auth_client, imp).content.decode()


def test_a_mal_entry_whose_id_is_unknown_is_not_given_a_namesake(auth_client, user, network):
    Anime.objects.create(title="Hunter x Hunter", year=1999, episodes=62, mal_id=136)
    network.get("https://jikan.test/v4/anime/11061").respond(
        404, json=json.loads((PROVIDERS / "jikan_error_404.json").read_text())
    )
    upload(auth_client, mal_file(anime_entry(11061, "Hunter x Hunter", watched=3)))
    page = preview(auth_client, open_import(user)).content.decode()
    assert "Unmatched (1)" in page and "with this id (mal_id 11061)" in page
    asked = [str(call.request.url) for call in network.calls]
    assert not any("?q=" in url or "&q=" in url for url in asked)  # no title search either


def test_an_import_lost_while_being_written_fails_after_an_hour(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop")))
    imp = open_import(user)
    Import.objects.filter(pk=imp.pk).update(state=Import.State.APPLYING)
    assert upload(auth_client, mal_file(anime_entry(6, "Trigun"))).status_code == 409
    later = timezone.now() + importing.LOST_AFTER + datetime.timedelta(minutes=1)
    assert importing.abandon_stale(later) == 1
    imp.refresh_from_db()
    assert imp.state == Import.State.FAILED and imp.rows == []
    assert "nothing was imported" in imp.error
    assert upload(auth_client, mal_file(anime_entry(6, "Trigun"))).status_code == 303


def test_a_picked_provider_title_already_in_the_catalog_is_that_title(auth_client, user, network):
    body = json.loads((PROVIDERS / "jikan_anime_detail.json").read_text())
    mushishi = Anime.objects.create(title="Mushishi", year=2005, episodes=26, mal_id=457)
    SavedAnime.objects.create(user=user, anime=mushishi, episode_progress=1)
    network.get("https://jikan.test/v4/anime/457").respond(json=body)
    network.get("https://jikan.test/v4/anime/424242").respond(
        404, json=json.loads((PROVIDERS / "jikan_error_404.json").read_text())
    )
    upload(auth_client, mal_file(anime_entry(424242, "Mushi-shi", watched=5)))
    imp = open_import(user)
    answer = auth_client.post(f"/import/{imp.pk}/rows/0/", {"provider_id": 457})
    assert answer.status_code == 303
    page = preview(auth_client, imp).content.decode()
    assert "Updated (1)" in page and "Episodes watched: 1 → 5" in page


def test_the_plan_is_made_again_when_importing(auth_client, user, catalog):
    upload(auth_client, mal_file(anime_entry(6, "Trigun", watched=4, score=7)))
    imp = open_import(user)
    assert "New (1)" in preview(auth_client, imp).content.decode()
    # Saved in another tab after the preview: the import updates it instead of failing.
    SavedAnime.objects.create(user=user, anime=catalog["trigun"], episode_progress=2, score=5)
    press_import(auth_client, imp, "keep")
    imp.refresh_from_db()
    assert imp.state == Import.State.DONE and imp.summary["kept"] == 1
    saved = SavedAnime.objects.get(user=user)
    assert (saved.episode_progress, saved.score) == (2, 5)


def test_a_missing_progress_element_erases_nothing(auth_client, user, catalog):
    SavedAnime.objects.create(user=user, anime=catalog["trigun"], episode_progress=7)
    data = mal_file(
        "<anime><series_animedb_id>6</series_animedb_id><series_title>Trigun</series_title>"
        "<my_score>8</my_score><my_status>Watching</my_status></anime>"
    )
    upload(auth_client, data)
    press_import(auth_client, open_import(user), "take")
    saved = SavedAnime.objects.get(user=user)
    assert (saved.episode_progress, saved.score) == (7, 8)


def test_a_save_is_never_dated_in_the_future(auth_client, user, catalog):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    upload(auth_client, mal_file(anime_entry(1, "Cowboy Bebop", start=tomorrow)))
    press_import(auth_client, open_import(user))
    assert SavedAnime.objects.get(user=user).created <= timezone.now()


@pytest.mark.parametrize("rating", ["NaN", "Infinity", "sNaN", "9e999999999", "4.3", "-1"])
def test_a_junk_letterboxd_rating_is_a_422(auth_client, user, rating):
    data = f"Date,Name,Year,Letterboxd URI,Rating\n2022-05-06,Heat,1995,x,{rating}\n".encode()
    answer = upload(auth_client, data, "ratings.csv")
    assert answer.status_code == 422 and "is not 0.5 to 5 stars" in answer.content.decode()
