"""Posters, what a person already saved on cards, the home page's Continue, and the service
worker's poster rule."""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from media.kinds import KINDS
from media.models import Anime, Manga, Movie, SavedAnime, SavedManga, SavedMovie, Status
from media.saved_states import saved_states

TMDB_POSTER = "https://image.tmdb.org/t/p/w342/spirited.jpg"
MAL_POSTER = "https://cdn.myanimelist.net/images/anime/4/19644.jpg"
SERIAL = itertools.count()


@pytest.fixture
def postered(items) -> dict:
    """The test items, the movie and the anime with a provider's poster; the manga without."""
    Movie.objects.filter(pk=items["movie"].pk).update(poster_url=TMDB_POSTER)
    Anime.objects.filter(pk=items["anime"].pk).update(poster_url=MAL_POSTER)
    for item in items.values():
        item.refresh_from_db()
    return items


def img_tags(html: str) -> list[dict[str, str]]:
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<img\s[^>]*>", html)
    ]


def test_poster_partial_draws_the_image_in_a_fixed_box(postered):
    html = render_to_string(
        "media/fragments.html#poster", {"item": postered["movie"], "size": "large"}
    )
    [img] = img_tags(html)
    assert img == {
        "class": "poster poster-large",
        "src": TMDB_POSTER,
        "alt": "",
        "width": "160",
        "height": "240",
        "loading": "lazy",
        "decoding": "async",
        "referrerpolicy": "no-referrer",
    }


@pytest.mark.parametrize(("size", "box"), [("small", (48, 72)), ("card", (64, 96))])
def test_poster_sizes_are_two_by_three(postered, size, box):
    html = render_to_string(
        "media/fragments.html#poster", {"item": postered["anime"], "size": size}
    )
    [img] = img_tags(html)
    assert (int(img["width"]), int(img["height"])) == box


def test_without_a_poster_a_placeholder_asks_for_nothing(postered):
    manga = postered["manga"]
    html = render_to_string("media/fragments.html#poster", {"item": manga, "size": "card"})
    assert "<img" not in html and "src=" not in html and "url(" not in html
    assert 'class="poster poster-card poster-none poster-manga" aria-hidden="true"' in html
    assert '<span class="poster-kind">Manga</span><span class="poster-initials">A</span>' in html
    small = render_to_string("media/fragments.html#poster", {"item": manga, "size": "small"})
    assert "poster-kind" not in small  # too small to read: the initials alone


@pytest.mark.parametrize("path", ["/", "/movies/", "/anime/", "/manga/", "/saved/"])
def test_pages_show_posters_and_placeholders(auth_client, user, postered, path):
    for kind in KINDS.values():
        kind.saved_model.objects.create(user=user, **{kind.item_field: postered[kind.key]})
    html = auth_client.get(path).content.decode()
    images = img_tags(html)
    for img in images:
        assert img["loading"] == "lazy" and img["alt"] == "" and img["width"] and img["height"]
    srcs = {img["src"] for img in images}
    assert srcs <= {TMDB_POSTER, MAL_POSTER}
    if path in ("/", "/saved/"):
        assert srcs == {TMDB_POSTER, MAL_POSTER} and "poster-none poster-manga" in html


def test_item_page_has_its_poster_and_never_prints_none(client, postered):
    html = client.get(postered["movie"].get_absolute_url()).content.decode()
    assert img_tags(html)[0]["src"] == TMDB_POSTER
    unknown = Movie.objects.create(title="Untitled Project", release_status="upcoming")
    html = client.get(unknown.get_absolute_url()).content.decode()
    assert "None" not in html
    assert '<p class="item-meta">Not released yet</p>' in html
    assert "poster-none poster-movie" in html and '<span class="poster-initials">UP</span>' in html


def test_cards_without_a_year_never_print_none(client, db):
    Movie.objects.create(title="Someday", runtime_minutes=100)
    html = client.get("/movies/").content.decode()
    assert "None" not in html
    assert '<p class="card-meta">100 min</p>' in html


def test_saved_states_is_one_query_per_kind_listed(user, other_user, items):
    SavedAnime.objects.create(
        user=user, anime=items["anime"], episode_progress=12, status=Status.IN_PROGRESS
    )
    SavedMovie.objects.create(user=user, movie=items["movie"], watched=True)
    SavedManga.objects.create(user=other_user, manga=items["manga"])
    listed = {key: [item] for key, item in items.items()}
    with CaptureQueriesContext(connection) as queries:
        states = saved_states(user, listed)
        texts = {key: saved.progress_summary for key, saved in states.items()}
    assert len(queries) == len(KINDS)
    assert set(states) == {("anime", items["anime"].pk), ("movie", items["movie"].pk)}
    assert texts[("anime", items["anime"].pk)] == "12 of 26 episodes"  # the item, no query
    assert states[("movie", items["movie"].pk)].item is items["movie"]
    with CaptureQueriesContext(connection) as queries:
        assert saved_states(user, {"anime": []}) == {}
    assert len(queries) == 0


def test_saved_states_asks_nothing_for_a_signed_out_person(items, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        assert saved_states(AnonymousUser(), {"movie": [items["movie"]]}) == {}


def test_cards_say_what_is_saved_and_how_far_along(auth_client, user, items):
    SavedAnime.objects.create(
        user=user, anime=items["anime"], episode_progress=12, status=Status.IN_PROGRESS
    )
    SavedMovie.objects.create(user=user, movie=items["movie"], watched=True)
    home = auth_client.get("/").content.decode()
    assert "Saved · 12 / 26 episodes</p>" in home
    assert "Saved · watched</p>" in home
    assert home.count('class="card-saved"') == 2
    listed = auth_client.get("/anime/").content.decode()
    assert "Saved · 12 / 26 episodes</p>" in listed


def test_list_page_with_saves_is_one_query_more(auth_client, user, db):
    Anime.objects.bulk_create(
        Anime(title=f"Show {n:02d}", year=2000, episodes=12) for n in range(30)
    )
    for anime in Anime.objects.all()[:10]:
        SavedAnime.objects.create(user=user, anime=anime, episode_progress=3)
    with CaptureQueriesContext(connection) as queries:
        html = auth_client.get("/anime/").content.decode()
    # The session, the user, the page of titles, and the person's saves of them.
    assert len(queries) == 4
    assert html.count("Saved · 3 / 12 episodes") == 10


def make_in_progress(user, count: int) -> list[str]:
    """`count` saves in progress, cycling through the kinds, updated a minute apart; their
    titles, most recently updated first."""
    start = timezone.now() - timedelta(days=1)
    titles = []
    for n in range(count):
        kind = list(KINDS.values())[n % len(KINDS)]
        item = kind.item_model.objects.create(title=f"{kind.label} {next(SERIAL):03d}", year=2001)
        saved = kind.saved_model.objects.create(
            user=user, status=Status.IN_PROGRESS, **{kind.item_field: item}
        )
        kind.saved_model.objects.filter(pk=saved.pk).update(updated=start + timedelta(minutes=n))
        titles.append(item.title)
    return titles[::-1]


def continue_titles(html: str) -> list[str]:
    return re.findall(r'class="continue-title" href="[^"]+">([^<]+)</a>', html)


def test_signed_in_home_starts_with_continue(auth_client, user, other_user, items):
    expected = make_in_progress(user, 8)
    make_in_progress(other_user, 3)
    KINDS["anime"].saved_model.objects.filter(user=user).update(status=Status.PLANNED)
    expected = [title for title in expected if not title.startswith("Anime")]
    html = auth_client.get("/").content.decode()
    assert html.index(">Continue</h1>") < html.index('id="shelf-movie"')
    assert "Create your shelf" not in html
    assert continue_titles(html) == expected[:6]


def test_continue_offers_the_quick_action_that_works_without_javascript(auth_client, user, items):
    SavedAnime.objects.create(
        user=user, anime=items["anime"], episode_progress=12, status=Status.IN_PROGRESS
    )
    html = auth_client.get("/").content.decode()
    track = items["anime"].track_url
    assert f'<form class="track-form quick" method="post" action="{track}"' in html
    assert '<input type="hidden" name="episode_progress" value="13">' in html
    answer = auth_client.post(
        track, {"only": "episode_progress", "episode_progress": "13", "next": "/"}
    )
    assert answer.status_code == 303 and answer["Location"] == "/"


def test_continue_is_empty_until_something_is_in_progress(client, auth_client, user, items):
    SavedManga.objects.create(user=user, manga=items["manga"])  # planned
    html = auth_client.get("/").content.decode()
    assert "Nothing in progress" in html and continue_titles(html) == []
    signed_out = client.get("/").content.decode()
    assert "Continue" not in signed_out and "Create your shelf" in signed_out


def test_home_queries_do_not_grow_with_saves(auth_client, user, django_assert_max_num_queries):
    make_in_progress(user, len(KINDS))  # one of each kind: each kind's queries are made
    with CaptureQueriesContext(connection) as few:
        auth_client.get("/")
    make_in_progress(user, 60)
    for manga in Manga.objects.all():
        SavedManga.objects.get_or_create(user=user, manga=manga)
    # Session and user, a shelf per kind, Continue per kind, saved states per kind.
    bound = 2 + 3 * len(KINDS)
    assert len(few) <= bound
    with django_assert_max_num_queries(len(few)):
        html = auth_client.get("/").content.decode()
    assert len(continue_titles(html)) == 6


def worker_source(client) -> tuple[dict, str]:
    script = client.get("/sw.js").content.decode()
    config = json.loads(re.search(r"^const CONFIG = (.*);$", script, re.MULTILINE).group(1))
    return config, script


def test_service_worker_keeps_posters_cache_first_and_bounded(client, db):
    config, script = worker_source(client)
    assert config["posterHosts"] == ["image.tmdb.org", "cdn.myanimelist.net"]
    assert 0 < config["maxPosters"] <= 500
    assert 'const POSTERS_PREFIX = "shelf-posters-";' in script
    assert "event.respondWith(posterFirst(event))" in script
    assert 'request.destination !== "image"' in script
    assert "trim(cache, CONFIG.maxPosters)" in script
    # A deploy keeps them (activate spares them); another person or sign-out does not.
    assert "!name.startsWith(POSTERS_PREFIX)" in script
    assert "name.startsWith(POSTERS_PREFIX) && name !== POSTERS_PREFIX + keep" in script


def test_sign_out_script_forgets_the_posters_too(client, db):
    from pathlib import Path

    script = (
        Path(__file__).resolve().parent.parent / "static/js/service-worker-registration.js"
    ).read_text()
    assert 'const POSTERS_PREFIX = "shelf-posters-";' in script
    assert "name.startsWith(POSTERS_PREFIX)" in script
