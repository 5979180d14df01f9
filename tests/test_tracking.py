"""Tracking each kind its own way: constraints, the edit endpoint, and the status rule."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from media.kinds import KINDS
from media.models import Anime, Manga, SavedAnime, SavedManga, SavedMovie, Status
from tests.conftest import HTMX

MOVIE, ANIME, MANGA = KINDS["movie"], KINDS["anime"], KINDS["manga"]


def track_url(kind, item) -> str:
    return f"/track/{kind.key}/{item.pk}/"


@pytest.fixture
def saves(user, items) -> dict:
    """A save of each registered kind's item, keyed like the registry."""
    return {
        key: kind.saved_model.objects.create(user=user, **{kind.item_field: items[key]})
        for key, kind in KINDS.items()
    }


def refused(queryset, **values) -> bool:
    """Whether the database refuses `values` on the rows of `queryset`."""
    try:
        with transaction.atomic():
            queryset.update(**values)
    except (IntegrityError, DataError):
        return True
    return False


# The database refuses out-of-range values, whatever the path.


@pytest.mark.parametrize("kind_key", list(KINDS))
def test_database_refuses_bad_score_status_and_note(saves, kind_key):
    rows = type(saves[kind_key]).objects.all()
    assert refused(rows, score=11)
    assert refused(rows, score=0)
    assert refused(rows, status="watching")
    assert refused(rows, note="x" * 501)
    assert not refused(rows, score=10, status=Status.DROPPED, note="x" * 500)


def test_database_refuses_progress_past_the_total_or_below_zero(saves):
    anime, manga = SavedAnime.objects.all(), SavedManga.objects.all()
    assert refused(anime, episode_progress=27)
    assert refused(anime, episode_progress=-1)
    assert not refused(anime, episode_progress=26)
    assert refused(manga, chapter_progress=121)
    assert refused(manga, volume_progress=7)
    assert not refused(manga, chapter_progress=120, volume_progress=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        SavedAnime.objects.create(
            user=saves["movie"].user,
            anime=Anime.objects.create(title="Short", year=2000, episodes=1),
            episode_progress=2,
        )


def test_unknown_total_sets_no_upper_bound(user):
    ongoing = Manga.objects.create(title="Ongoing", year=2020, chapters=None, volumes=None)
    saved = SavedManga.objects.create(user=user, manga=ongoing, chapter_progress=5000)
    assert saved.chapter_progress == 5000


def test_database_refuses_a_watch_date_without_watched(saves):
    movie = SavedMovie.objects.all()
    assert refused(movie, watched=False, watched_on=date(2024, 1, 1))
    assert not refused(movie, watched=True, watched_on=date(2024, 1, 1))


# The rule that keeps status and progress in step.


def test_reaching_the_total_completes(saves):
    saved = saves["anime"]
    saved.episode_progress = 26
    saved.reconcile(["episode_progress"])
    assert saved.status == Status.COMPLETED


def test_completing_sets_progress_to_the_total(saves):
    manga = saves["manga"]
    manga.status = Status.COMPLETED
    manga.reconcile(["status"])
    assert (manga.chapter_progress, manga.volume_progress) == (120, 6)
    movie = saves["movie"]
    movie.status = Status.COMPLETED
    movie.reconcile(["status"])
    assert movie.watched and movie.watched_on == timezone.localdate()


def test_completing_with_an_unknown_total_keeps_progress(user):
    ongoing = Anime.objects.create(title="Ongoing", year=2024, episodes=None)
    saved = SavedAnime.objects.create(user=user, anime=ongoing, episode_progress=7)
    saved.status = Status.COMPLETED
    saved.reconcile(["status"])
    assert (saved.status, saved.episode_progress) == (Status.COMPLETED, 7)


def test_moving_back_from_the_end_reopens_and_starting_begins(saves):
    saved = saves["anime"]
    saved.episode_progress = 3
    saved.reconcile(["episode_progress"])
    assert saved.status == Status.IN_PROGRESS
    saved.status, saved.episode_progress = Status.COMPLETED, 20
    saved.reconcile(["episode_progress"])
    assert saved.status == Status.IN_PROGRESS
    saved.episode_progress = 0
    saved.status = Status.COMPLETED
    saved.reconcile(["episode_progress"])
    assert saved.status == Status.PLANNED


def test_on_hold_and_dropped_are_kept_while_progress_moves(saves):
    saved = saves["anime"]
    saved.status, saved.episode_progress = Status.ON_HOLD, 5
    saved.reconcile(["episode_progress"])
    assert saved.status == Status.ON_HOLD


def test_unwatching_a_movie_clears_its_date_and_completion(saves):
    movie = saves["movie"]
    movie.watched, movie.watched_on, movie.status = True, date(2024, 5, 1), Status.COMPLETED
    movie.watched = False
    movie.reconcile(["watched"])
    assert (movie.status, movie.watched_on) == (Status.PLANNED, None)


# The edit endpoint.


def test_htmx_edit_returns_the_tracking_panel(auth_client, saves, items):
    response = auth_client.post(
        track_url(ANIME, items["anime"]),
        {"episode_progress": "12", "status": "in_progress", "score": "9", "note": "Space jazz."},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith("<section")
    assert "12 / 26 episodes" in html
    saved = SavedAnime.objects.get()
    assert (saved.episode_progress, saved.score, saved.note) == (12, 9, "Space jazz.")


def test_plain_edit_redirects_back(auth_client, saves, items):
    response = auth_client.post(
        track_url(MANGA, items["manga"]),
        {
            "chapter_progress": "120",
            "volume_progress": "6",
            "status": "planned",
            "next": "/saved/?sort=title",
        },
    )
    assert (response.status_code, response["Location"]) == (303, "/saved/?sort=title")
    saved = SavedManga.objects.get()
    assert (saved.chapter_progress, saved.status) == (120, Status.COMPLETED)
    assert "Updated “Akira”." in auth_client.get("/saved/").content.decode()


def test_watched_switch(auth_client, saves, items):
    url = track_url(MOVIE, items["movie"])
    response = auth_client.post(url, {"only": "watched", "watched": "on"}, **HTMX)
    assert response.status_code == 200
    assert 'role="switch" aria-checked="true"' in response.content.decode()
    saved = SavedMovie.objects.get()
    assert (saved.watched, saved.status, saved.watched_on) == (
        True,
        Status.COMPLETED,
        timezone.localdate(),
    )
    response = auth_client.post(url, {"only": "watched", "watched": ""}, **HTMX)
    assert response.status_code == 200, response.content.decode()
    saved.refresh_from_db()
    assert (saved.watched, saved.status, saved.watched_on) == (False, Status.PLANNED, None)


def test_plus_one_posted_twice_adds_one(auth_client, saves, items):
    SavedAnime.objects.update(episode_progress=4, note="kept", score=7)
    for _ in range(2):  # a double-click sends the same absolute value twice
        response = auth_client.post(
            track_url(ANIME, items["anime"]),
            {"only": "episode_progress", "episode_progress": "5"},
            **HTMX,
        )
        assert response.status_code == 200
    saved = SavedAnime.objects.get()
    assert (saved.episode_progress, saved.note, saved.score) == (5, "kept", 7)
    assert 'name="episode_progress" value="6"' in response.content.decode()  # the next +1


def test_plus_one_is_offered_until_the_end(auth_client, saves, items):
    SavedAnime.objects.update(episode_progress=25)
    html = auth_client.get(items["anime"].get_absolute_url()).content.decode()
    assert "+1<span" in html
    SavedAnime.objects.update(episode_progress=26)
    html = auth_client.get(items["anime"].get_absolute_url()).content.decode()
    assert "+1<span" not in html


BAD_INPUTS = [
    ({"episode_progress": "27"}, "Cowboy Bebop has 26 episodes: enter a number from 0 to 26."),
    ({"episode_progress": "-1"}, "Ensure this value is greater than or equal to 0."),
    ({"episode_progress": "three"}, "Enter a whole number."),
    ({"episode_progress": "3", "score": "11"}, "Ensure this value is less than or equal to 10."),
    ({"episode_progress": "3", "score": "0"}, "Ensure this value is greater than or equal to 1."),
    ({"episode_progress": "3", "status": "watching"}, "Select a valid choice."),
    (
        {"episode_progress": "3", "note": "x" * 501},
        "Ensure this value has at most 500 characters (it has 501).",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_INPUTS)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_bad_input_is_422_with_its_message_and_changes_nothing(
    auth_client, saves, items, data, message, headers
):
    SavedAnime.objects.update(episode_progress=2, score=5, note="before")
    before = SavedAnime.objects.values().get()
    response = auth_client.post(
        track_url(ANIME, items["anime"]), {"status": "in_progress", **data}, **headers
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert "Nothing was changed" in html
    assert ("<html" in html) is (headers == {})  # plain: the whole page; htmx: the panel
    assert SavedAnime.objects.values().get() == before


def test_bad_watch_date(auth_client, saves, items):
    response = auth_client.post(
        track_url(MOVIE, items["movie"]),
        {"watched": "on", "watched_on": "2999-01-01", "status": "completed"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "That date is in the future." in response.content.decode()
    assert not SavedMovie.objects.get().watched


def test_editing_an_item_that_is_not_saved_is_404(auth_client, items):
    response = auth_client.post(track_url(ANIME, items["anime"]), {"episode_progress": "1"})
    assert response.status_code == 404
    assert not SavedAnime.objects.exists()


def test_editing_another_persons_entry_is_404(auth_client, other_user, items):
    SavedAnime.objects.create(user=other_user, anime=items["anime"], episode_progress=3)
    response = auth_client.post(track_url(ANIME, items["anime"]), {"episode_progress": "9"}, **HTMX)
    assert response.status_code == 404
    assert SavedAnime.objects.get().episode_progress == 3


def test_unknown_item_is_404_and_get_is_not_an_edit(auth_client, saves, items):
    assert auth_client.post("/track/anime/999999/", {"episode_progress": "1"}).status_code == 404
    plain = auth_client.get(track_url(ANIME, items["anime"]))
    assert (plain.status_code, plain["Location"]) == (303, items["anime"].get_absolute_url())
    panel = auth_client.get(track_url(ANIME, items["anime"]), **HTMX)
    assert panel.status_code == 200 and "0 / 26 episodes" in panel.content.decode()


def test_anonymous_edit_goes_to_login(client, saves, items):
    response = client.post(track_url(ANIME, items["anime"]), {"episode_progress": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert SavedAnime.objects.get().episode_progress == 0


def test_htmx_save_loads_the_tracking_panel_and_unsave_removes_it(auth_client, items):
    item = items["anime"]
    saved = auth_client.post(f"/save/anime/{item.pk}/", {"intent": "save"}, **HTMX)
    html = saved.content.decode()
    assert f'id="tracking-anime-{item.pk}" hx-swap-oob="true"' in html
    assert f'hx-get="/track/anime/{item.pk}/' in html
    assert len(saved.content) < 1024
    removed = auth_client.post(f"/save/anime/{item.pk}/", {"intent": "unsave"}, **HTMX)
    assert 'hx-swap-oob="true"></div>' in removed.content.decode()


def test_item_page_shows_tracking_only_when_saved(auth_client, saves, items, other_user):
    html = auth_client.get(items["manga"].get_absolute_url()).content.decode()
    assert "0 / 120 chapters" in html and ">Chapters read</label>" in html
    SavedManga.objects.all().delete()
    html = auth_client.get(items["manga"].get_absolute_url()).content.decode()
    assert "Edit tracking" not in html


def test_admin_shows_the_per_kind_fields(admin_client, saves):
    for saved, label in (
        (saves["movie"], "Watched on"),
        (saves["anime"], "Episodes watched"),
        (saves["manga"], "Volumes read"),
    ):
        url = f"/admin/media/{saved._meta.model_name}/{saved.pk}/change/"
        assert label in admin_client.get(url).content.decode()
        changelist = admin_client.get(f"/admin/media/{saved._meta.model_name}/").content.decode()
        assert '<td class="field-status">Planned</td>' in changelist


def test_dashboard_ids_are_unique(auth_client, saves, items, user):
    import re
    from collections import Counter

    SavedAnime.objects.create(
        user=user, anime=Anime.objects.create(title="Mushishi", year=2005, episodes=26)
    )
    html = auth_client.get("/saved/").content.decode()
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    # every entry offers its own edit form
    assert html.count('class="track-edit"') == len(KINDS) + 1
    assert "<details" not in html  # ...loaded when asked, not rendered 20 times per page


def test_dashboard_edit_loads_the_form_in_place_or_opens_the_item(auth_client, saves, items):
    anime = items["anime"]
    html = auth_client.get("/saved/").content.decode()
    item_link = f'href="{anime.get_absolute_url()}?edit=1&amp;next=/saved/#tracking-anime-'
    assert item_link in html
    assert f'hx-get="/track/anime/{anime.pk}/?edit=1&amp;next=/saved/"' in html

    # With htmx: the whole panel, its form open and focused, going back to the dashboard.
    panel = auth_client.get(f"/track/anime/{anime.pk}/?edit=1&next=/saved/", **HTMX)
    body = panel.content.decode()
    assert panel.status_code == 200 and "<html" not in body
    assert '<details class="track-details" open>' in body and "<summary autofocus>" in body
    assert body.count('for="id_anime_') == len(SavedAnime.tracking_fields)
    assert 'name="next" value="/saved/"' in body

    # Without JavaScript: the item page with the form open; saving it goes back there.
    page = auth_client.get(f"{anime.get_absolute_url()}?edit=1&next=/saved/").content.decode()
    assert '<details class="track-details" open>' in page
    assert 'name="next" value="/saved/"' in page
    done = auth_client.post(
        track_url(ANIME, anime),
        {"episode_progress": "4", "status": "in_progress", "next": "/saved/"},
    )
    assert (done.status_code, done["Location"]) == (303, "/saved/")
    odd = auth_client.get(f"{anime.get_absolute_url()}?edit=1&next=https://evil.example/")
    assert 'value="https://evil.example/"' not in odd.content.decode()  # back here instead


def test_quick_buttons_keep_a_dashboard_entry_compact(auth_client, saves, items):
    url = track_url(ANIME, items["anime"])
    data = {"only": "episode_progress", "episode_progress": "1", "next": "/saved/"}
    compact = auth_client.post(url, {**data, "compact": "1"}, **HTMX).content.decode()
    assert 'class="track-edit"' in compact and "<details" not in compact
    assert 'name="compact" value="1"' in compact  # the next press stays compact too
    full = auth_client.post(url, {**data, "episode_progress": "2"}, **HTMX).content.decode()
    assert "<details" in full and 'class="track-edit"' not in full


def test_refused_plain_edit_from_the_dashboard_goes_back_there(auth_client, saves, items):
    url = track_url(ANIME, items["anime"])
    refused = auth_client.post(url, {"episode_progress": "99", "next": "/saved/?sort=title"})
    assert refused.status_code == 422
    assert 'name="next" value="/saved/?sort=title"' in refused.content.decode()
    fixed = auth_client.post(
        url, {"episode_progress": "9", "status": "planned", "next": "/saved/?sort=title"}
    )
    assert (fixed.status_code, fixed["Location"]) == (303, "/saved/?sort=title")


def test_plus_one_past_the_end_is_refused(auth_client, saves, items):
    SavedAnime.objects.update(episode_progress=26, status="completed")
    response = auth_client.post(
        track_url(ANIME, items["anime"]),
        {"only": "episode_progress", "episode_progress": "27"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Cowboy Bebop has 26 episodes" in response.content.decode()
    assert SavedAnime.objects.get().episode_progress == 26


def test_volumes_past_the_total_are_refused(auth_client, saves, items):
    response = auth_client.post(
        track_url(MANGA, items["manga"]),
        {"chapter_progress": "10", "volume_progress": "7", "status": "planned"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Akira has 6 volumes: enter a number from 0 to 6." in response.content.decode()
    assert SavedManga.objects.get().chapter_progress == 0


@pytest.mark.parametrize(
    ("kind_key", "data", "message"),
    [
        ("anime", {"episode_progress": "26", "status": "in_progress"}, "lower the episodes"),
        ("anime", {"episode_progress": "26", "status": "dropped"}, "which is completed"),
        ("movie", {"watched": "on", "status": "planned"}, "uncheck Watched"),
    ],
)
def test_a_status_that_contradicts_progress_is_refused(
    auth_client, saves, items, kind_key, data, message
):
    saved = saves[kind_key]
    type(saved).objects.update(status="completed")
    if kind_key == "anime":
        SavedAnime.objects.update(episode_progress=26)
    else:
        SavedMovie.objects.update(watched=True, watched_on=date(2024, 1, 1))
    before = type(saved).objects.values().get()
    response = auth_client.post(track_url(KINDS[kind_key], items[kind_key]), data, **HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert type(saved).objects.values().get() == before


def test_lowering_progress_and_status_together_reopens(auth_client, saves, items):
    SavedAnime.objects.update(episode_progress=26, status="completed")
    response = auth_client.post(
        track_url(ANIME, items["anime"]), {"episode_progress": "20", "status": "on_hold"}, **HTMX
    )
    assert response.status_code == 200
    saved = SavedAnime.objects.get()
    assert (saved.episode_progress, saved.status) == (20, Status.ON_HOLD)


def test_another_persons_panel_cannot_be_read(auth_client, other_user, items):
    SavedAnime.objects.create(user=other_user, anime=items["anime"], note="private")
    response = auth_client.get(track_url(ANIME, items["anime"]), **HTMX)
    assert response.status_code == 404
    assert "private" not in response.content.decode()
    page = auth_client.get(items["anime"].get_absolute_url()).content.decode()
    assert "private" not in page and ">Save</button>" in page


def test_unsafe_next_on_an_edit_is_ignored(auth_client, saves, items):
    response = auth_client.post(
        track_url(ANIME, items["anime"]),
        {"episode_progress": "1", "status": "planned", "next": "//evil.example"},
    )
    assert (response.status_code, response["Location"]) == (303, items["anime"].get_absolute_url())


def test_admin_refuses_progress_past_the_total_with_a_message(admin_client, saves):
    saved = saves["anime"]
    response = admin_client.post(
        f"/admin/media/savedanime/{saved.pk}/change/",
        {
            "user": saved.user_id,
            "anime": saved.anime_id,
            "episode_progress": "999",
            "status": "planned",
            "score": "",
            "started": "",
            "finished": "",
            "rewatches": "0",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "Cowboy Bebop has 26 episodes" in response.content.decode()
    assert SavedAnime.objects.get().episode_progress == 0


def test_admin_status_follows_progress(admin_client, saves):
    saved = saves["anime"]
    response = admin_client.post(
        f"/admin/media/savedanime/{saved.pk}/change/",
        {
            "user": saved.user_id,
            "anime": saved.anime_id,
            "episode_progress": "26",
            "status": "planned",
            "score": "",
            "started": "",
            "finished": "",
            "rewatches": "0",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert SavedAnime.objects.get().status == Status.COMPLETED


def test_a_total_cannot_drop_below_tracked_progress(admin_client, saves, items, tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command

    SavedAnime.objects.update(episode_progress=20)
    anime = Anime.objects.all()
    assert refused(anime, episodes=5)  # the database, whatever the path
    assert not refused(anime, episodes=20)

    response = admin_client.post(
        f"/admin/media/anime/{items['anime'].pk}/change/",
        {"title": "Cowboy Bebop", "year": "1998", "episodes": "5", "synopsis": ""},
    )
    assert response.status_code == 200
    assert "Someone has tracked more episodes than 5" in response.content.decode()

    # The demo catalog never changes the totals of a title that exists: it cannot trip over this.
    (tmp_path / "anime.json").write_text(
        json.dumps([{"title": "Cowboy Bebop", "year": 1998, "episodes": 5}])
    )
    call_command("load_demo_catalog", dir=tmp_path, stdout=StringIO())
    assert Anime.objects.get().episodes == 20


def test_an_edit_costs_a_fixed_handful_of_queries(
    auth_client, saves, items, django_assert_num_queries
):
    # The item, the session, the user, the locked row and its update (in a transaction):
    # constraints the form's fields already check are not asked of the database again.
    url = track_url(ANIME, items["anime"])
    with django_assert_num_queries(7):
        response = auth_client.post(
            url, {"episode_progress": "3", "status": "in_progress", "score": "8"}, **HTMX
        )
    assert response.status_code == 200
    assert SavedAnime.objects.get().episode_progress == 3


def test_the_note_counts_characters_as_the_database_does(auth_client, saves, items):
    """500 emoji are 500 characters here and in the database (a browser's maxlength would
    count 1,000 UTF-16 units and stop at 250), so the form sets no maxlength."""
    url = track_url(ANIME, items["anime"])
    html = auth_client.get(items["anime"].get_absolute_url()).content.decode()
    note_tag = re.search(r"<textarea[^>]*>", html).group(0)
    assert "maxlength" not in note_tag and "Up to 500 characters" in html
    response = auth_client.post(url, {"only": "note", "note": "🎞️"[0] * 500}, **HTMX)
    assert response.status_code == 200
    assert SavedAnime.objects.get().note == "🎞️"[0] * 500
    refused = auth_client.post(url, {"only": "note", "note": "🎞️"[0] * 501}, **HTMX)
    assert refused.status_code == 422
    assert "at most 500 characters (it has 501)" in refused.content.decode()
    assert SavedAnime.objects.get().note == "🎞️"[0] * 500


# Started and finished (anime, manga) and rewatches (every kind).


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_an_edit_sets_the_days_and_the_rewatches(auth_client, saves, items, headers):
    response = auth_client.post(
        track_url(ANIME, items["anime"]),
        {
            "episode_progress": "26",
            "status": "completed",
            "started": "2024-01-03",
            "finished": "2024-02-29",
            "rewatches": "2",
            "note": "",
            "next": "/saved/",
        },
        **headers,
    )
    if headers:
        assert response.status_code == 200
        html = response.content.decode()
    else:
        assert (response.status_code, response["Location"]) == (303, "/saved/")
        html = auth_client.get(items["anime"].get_absolute_url()).content.decode()
    saved = SavedAnime.objects.get()
    assert (saved.started, saved.finished, saved.rewatches) == (
        date(2024, 1, 3),
        date(2024, 2, 29),
        2,
    )
    assert (
        '<span>started <time datetime="2024-01-03">3 Jan 2024</time></span>'
        ' · <span>finished <time datetime="2024-02-29">29 Feb 2024</time></span>'
    ) in html
    assert ">rewatched 2 times<" in html
    # The form shows them as stored, the days in date pickers.
    assert re.search(r'<input type="date" name="started" value="2024-01-03"[^>]*>', html)
    assert re.search(r'<input type="number" name="rewatches" value="2"[^>]*max="999"', html)


def test_the_panel_says_only_what_is_set_and_a_list_stays_compact(auth_client, saves, items):
    page = auth_client.get(items["manga"].get_absolute_url()).content.decode()
    assert "track-dates" not in page and "track-rewatches" not in page
    SavedManga.objects.update(finished=date(2023, 5, 6), rewatches=1)
    page = auth_client.get(items["manga"].get_absolute_url()).content.decode()
    assert (
        '<span class="track-meta track-dates"><span>finished <time datetime="2023-05-06">' in page
    )
    assert "started <time" not in page
    assert ">reread once<" in page
    assert ">Times reread</label>" in page and ">Started</label>" in page
    SavedMovie.objects.update(rewatches=4)
    page = auth_client.get(items["movie"].get_absolute_url()).content.decode()
    assert ">rewatched 4 times<" in page and ">Times rewatched</label>" in page
    assert 'name="started"' not in page  # a movie keeps the day it was watched instead
    dashboard = auth_client.get("/saved/").content.decode()  # one compact row per save
    assert "track-dates" not in dashboard and "track-rewatches" not in dashboard


def test_plus_one_keeps_the_days_and_the_rewatches(auth_client, saves, items):
    SavedAnime.objects.update(started=date(2024, 1, 3), rewatches=3, episode_progress=4)
    response = auth_client.post(
        track_url(ANIME, items["anime"]),
        {"only": "episode_progress", "episode_progress": "5"},
        **HTMX,
    )
    assert response.status_code == 200
    saved = SavedAnime.objects.get()
    assert (saved.episode_progress, saved.started, saved.finished, saved.rewatches) == (
        5,
        date(2024, 1, 3),
        None,
        3,
    )


def test_a_form_without_rewatches_keeps_them_and_an_empty_box_is_none(auth_client, saves, items):
    """A form from before the field existed (a page left open) changes nothing it lacks."""
    SavedAnime.objects.update(rewatches=3)
    url = track_url(ANIME, items["anime"])
    data = {"episode_progress": "1", "status": "in_progress"}
    assert auth_client.post(url, data, **HTMX).status_code == 200
    assert SavedAnime.objects.get().rewatches == 3
    assert auth_client.post(url, {**data, "rewatches": ""}, **HTMX).status_code == 200
    assert SavedAnime.objects.get().rewatches == 0


STARTED = "It was started on 10 Mar 2024: it cannot be finished before it was started."
FUTURE = "That date is in the future."
BAD_DAYS = [
    ({"started": "2024-03-10", "finished": "2024-03-09"}, {"finished": STARTED}),
    ({"started": "2999-01-01"}, {"started": FUTURE}),
    ({"finished": "2999-01-01"}, {"finished": FUTURE}),
    ({"started": "2999-01-01", "finished": "2024-01-01"}, {"started": FUTURE}),
    ({"started": "2024-02-30"}, {"started": "Enter a valid date."}),
    ({"rewatches": "1000"}, {"rewatches": "Ensure this value is less than or equal to 999."}),
    ({"rewatches": "-1"}, {"rewatches": "Ensure this value is greater than or equal to 0."}),
    (
        {"episode_progress": "27", "status": "completed", "finished": "2999-01-01"},
        {"episode_progress": "Cowboy Bebop has 26 episodes", "finished": FUTURE},
    ),
]


@pytest.mark.parametrize(("data", "messages"), BAD_DAYS)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_bad_days_and_rewatches_are_422_by_their_fields_and_change_nothing(
    auth_client, saves, items, data, messages, headers
):
    SavedAnime.objects.update(started=date(2024, 1, 1), rewatches=1, episode_progress=2)
    before = SavedAnime.objects.values().get()
    response = auth_client.post(
        track_url(ANIME, items["anime"]),
        {"episode_progress": "3", "status": "in_progress", **data},
        **headers,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was changed" in html
    errors = dict(re.findall(r'<p class="field-error" id="id_anime_\d+_(\w+)_error">([^<]*)', html))
    assert errors.keys() == messages.keys(), errors
    for field, message in messages.items():
        assert message in errors[field], (field, errors)
    assert SavedAnime.objects.values().get() == before


@pytest.mark.parametrize("model", [SavedAnime, SavedManga])
def test_the_database_refuses_a_finish_before_the_start(saves, model):
    rows = model.objects.all()
    assert refused(rows, started=date(2024, 3, 10), finished=date(2024, 3, 9))
    assert not refused(rows, started=date(2024, 3, 10), finished=date(2024, 3, 10))
    assert not refused(rows, started=None, finished=date(2020, 1, 1))
    assert not refused(rows, started=date(2024, 3, 10), finished=None)
    saved = rows.get()
    saved.finished = date(2024, 3, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        saved.save()  # no form, no clean(): the database still says no
    assert rows.get().finished is None


@pytest.mark.parametrize("kind_key", list(KINDS))
def test_the_database_refuses_rewatches_out_of_range(saves, kind_key):
    rows = type(saves[kind_key]).objects.all()
    assert refused(rows, rewatches=-1)
    assert refused(rows, rewatches=1000)
    assert not refused(rows, rewatches=999)


def test_admin_edits_the_days_and_refuses_them_out_of_order(admin_client, saves):
    saved = saves["manga"]
    url = f"/admin/media/savedmanga/{saved.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "Times reread" in page and "Started" in page and "Finished" in page
    data = {
        "user": saved.user_id,
        "manga": saved.manga_id,
        "chapter_progress": "3",
        "volume_progress": "0",
        "status": "in_progress",
        "score": "",
        "started": "2024-03-10",
        "finished": "2024-03-09",
        "rewatches": "1",
        "note": "",
    }
    refused_page = admin_client.post(url, data)
    assert refused_page.status_code == 200
    assert "it cannot be finished before it was started" in refused_page.content.decode()
    assert SavedManga.objects.get().started is None
    assert admin_client.post(url, {**data, "finished": "2024-04-01"}).status_code == 302
    saved = SavedManga.objects.get()
    assert (saved.started, saved.finished, saved.rewatches) == (
        date(2024, 3, 10),
        date(2024, 4, 1),
        1,
    )
