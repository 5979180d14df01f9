"""The metadata providers: what they make of real recorded answers, and how they fail softly.

Bodies come from tests/fixtures/providers (see tests/fixtures/SOURCES.md); a quirk with no
recording is made by changing one key of a recorded body. Time is fake: nothing really sleeps.
"""

from __future__ import annotations

import copy
import json
import threading
from email.utils import formatdate

import httpx
import pytest
from django.core.cache import cache
from django.db import connection

from media.kinds import KINDS
from media.models import ProviderThrottle, ReleaseStatus
from media.providers import (
    PROVIDERS,
    TMDB,
    Jikan,
    KeyRefused,
    NotConfigured,
    NotFound,
    ProviderError,
    Record,
    Unavailable,
    for_kind,
    http,
    throttle,
)
from media.providers.http import USER_AGENT, retry_after
from tests.conftest import PROVIDER_FIXTURES, START, TMDB_URL, V3_KEY

# Every test here runs with the throttle on a fake clock.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_time")]

FIXTURES = PROVIDER_FIXTURES
JIKAN = "https://jikan.test/v4"
READ_TOKEN = "eyJhbGciOiJIUzI1NiJ9." + "a" * 120 + ".signature"


def recorded(name: str):
    """A fresh copy of a recorded body."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


tmdb = PROVIDERS["tmdb"]
jikan = PROVIDERS["jikan"]


# The registry.


def test_registry_names_each_kinds_provider():
    assert set(PROVIDERS) == {"tmdb", "jikan"}
    assert isinstance(for_kind("movie"), TMDB)
    assert isinstance(for_kind("anime"), Jikan)
    assert for_kind("manga") is jikan
    for kind in KINDS.values():
        assert kind.key in for_kind(kind.key).kinds
    assert (tmdb.name, jikan.name) == ("TMDB", "MyAnimeList")


def test_a_kind_the_provider_does_not_serve_is_a_mistake():
    with pytest.raises(ValueError):
        jikan.search("movie", "alien")


# TMDB: mapping.


def test_tmdb_details_of_fight_club(network, tmdb_key):
    route = network.get(f"{TMDB_URL}/movie/550").respond(json=recorded("tmdb_movie_details"))

    record = tmdb.fetch("movie", 550)

    assert record.provider == "tmdb" and record.kind == "movie"
    assert record.ids == {"tmdb_id": 550, "imdb_id": "tt0137523"}
    assert record.provider_id == 550
    assert record.title == "Fight Club"
    assert record.alt_titles == ()  # its original title is the same
    assert record.year == 1999
    assert record.totals == {"runtime_minutes": 139}
    assert record.synopsis.startswith("A ticking-time-bomb insomniac")
    assert record.poster_url == "https://image.tmdb.org/t/p/w342/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg"
    assert record.release_status == ReleaseStatus.FINISHED
    assert tmdb.page_url(record) == "https://www.themoviedb.org/movie/550"
    request = route.calls.last.request
    assert request.url.params["api_key"] == V3_KEY
    assert request.headers["User-Agent"] == USER_AGENT
    assert "Authorization" not in request.headers


def test_tmdb_catalog_fields_fit_the_movie_model(network, tmdb_key):
    network.get(f"{TMDB_URL}/movie/550").respond(json=recorded("tmdb_movie_details"))

    fields = tmdb.fetch("movie", "550").catalog_fields()

    assert fields == {
        "title": "Fight Club",
        "alt_titles": [],
        "year": 1999,
        "synopsis": recorded("tmdb_movie_details")["overview"],
        "poster_url": "https://image.tmdb.org/t/p/w342/pB8BM7pdSp6B6Ih7QZ4DrQ3PmJK.jpg",
        "release_status": "finished",
        "runtime_minutes": 139,
        "tmdb_id": 550,
        "imdb_id": "tt0137523",
    }
    movie = KINDS["movie"].item_model(**fields)
    movie.full_clean()


def test_tmdb_search(network, tmdb_key):
    route = network.get(url__startswith=f"{TMDB_URL}/search/movie").respond(
        json=recorded("tmdb_search_movie")
    )

    records = tmdb.search("movie", "  RRRrrrr ")

    assert [(r.provider_id, r.title, r.year) for r in records] == [(21778, "RRRrrrr!!!", 2004)]
    record = records[0]
    assert record.ids == {"tmdb_id": 21778}  # the IMDb id comes with details only
    assert record.totals == {"runtime_minutes": None}
    assert record.release_status == ""
    assert record.poster_url.endswith("/w342/qsGU6myn85MfqpNAxzJtxJ3VgrM.jpg")
    params = route.calls.last.request.url.params
    assert (params["query"], params["include_adult"]) == ("RRRrrrr", "false")


def test_tmdb_search_keeps_to_the_limit(network, tmdb_key):
    body = recorded("tmdb_search_movie")
    first = body["results"][0]
    body["results"] = [{**first, "id": first["id"] + n} for n in range(5)]
    network.get(url__startswith=f"{TMDB_URL}/search/movie").respond(json=body)

    assert len(tmdb.search("movie", "rrr", limit=3)) == 3


def test_tmdb_empty_query_asks_nothing(network, tmdb_key):
    assert tmdb.search("movie", "   ") == []
    assert not network.calls


def test_tmdb_original_title_is_an_alternative(network, tmdb_key):
    body = recorded("tmdb_movie_details")
    body["original_title"] = "Le Club de combat"
    network.get(f"{TMDB_URL}/movie/550").respond(json=body)

    assert tmdb.fetch("movie", 550).alt_titles == ("Le Club de combat",)


@pytest.mark.parametrize(
    ("key", "value", "field", "expected"),
    [
        ("release_date", "", "year", None),
        ("poster_path", None, "poster_url", ""),
        ("runtime", 0, "totals", {"runtime_minutes": None}),
        ("runtime", None, "totals", {"runtime_minutes": None}),
        ("imdb_id", None, "ids", {"tmdb_id": 550}),
        ("imdb_id", "", "ids", {"tmdb_id": 550}),
    ],
)
def test_tmdb_quirks(network, tmdb_key, key, value, field, expected):
    body = recorded("tmdb_movie_details")
    body[key] = value
    network.get(f"{TMDB_URL}/movie/550").respond(json=body)

    assert getattr(tmdb.fetch("movie", 550), field) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Released", "finished"),
        ("Rumored", "upcoming"),
        ("Planned", "upcoming"),
        ("In Production", "upcoming"),
        ("Post Production", "upcoming"),
        ("Canceled", "cancelled"),
        ("Something new", ""),
    ],
)
def test_tmdb_release_status(network, tmdb_key, status, expected):
    body = recorded("tmdb_movie_details")
    body["status"] = status
    network.get(f"{TMDB_URL}/movie/550").respond(json=body)

    assert tmdb.fetch("movie", 550).release_status == expected


def test_tmdb_find_by_imdb_id(network, tmdb_key):
    # Shaped like TMDB's documented /find answer, its movie taken from a recorded search.
    movie = recorded("tmdb_search_movie")["results"][0]
    body = {
        "movie_results": [movie],
        "person_results": [],
        "tv_results": [],
        "tv_episode_results": [],
        "tv_season_results": [],
    }
    route = network.get(url__startswith=f"{TMDB_URL}/find/tt0400426").respond(json=body)

    record = tmdb.find_imdb("tt0400426")

    assert record.ids == {"tmdb_id": 21778, "imdb_id": "tt0400426"}
    assert record.title == "RRRrrrr!!!"
    assert route.calls.last.request.url.params["external_source"] == "imdb_id"


def test_tmdb_find_without_a_movie(network, tmdb_key):
    body = {"movie_results": [], "person_results": [], "tv_results": []}
    network.get(url__startswith=f"{TMDB_URL}/find/tt0000001").respond(json=body)

    assert tmdb.find_imdb("tt0000001") is None
    assert tmdb.find_imdb("not an imdb id") is None  # asks nothing
    assert len(network.calls) == 1


# TMDB: its key.


def test_tmdb_without_a_key_sends_nothing(network):
    assert not tmdb.configured
    for call in (
        lambda: tmdb.search("movie", "alien"),
        lambda: tmdb.fetch("movie", 550),
        lambda: tmdb.find_imdb("tt0137523"),
    ):
        with pytest.raises(NotConfigured) as raised:
            call()
        assert raised.value.message == "Movie search needs a TMDB key"
    assert not network.calls


def test_a_read_token_goes_as_a_bearer_header(network, settings):
    settings.TMDB_API_KEY = READ_TOKEN
    route = network.get(f"{TMDB_URL}/movie/550").respond(json=recorded("tmdb_movie_details"))

    assert tmdb.configured
    tmdb.fetch("movie", 550)

    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {READ_TOKEN}"
    assert "api_key" not in request.url.params


def test_a_refused_key(network, tmdb_key, fake_time):
    route = network.get(f"{TMDB_URL}/movie/550").respond(
        401, json=recorded("tmdb_error_invalid_api_key")
    )

    with pytest.raises(KeyRefused) as raised:
        tmdb.fetch("movie", 550)

    assert isinstance(raised.value, NotConfigured)
    assert raised.value.message == "The TMDB key was refused"
    assert route.call_count == 1 and not fake_time.sleeps  # asking again would not help


def test_the_key_is_never_part_of_a_cache_key(network, tmdb_key):
    network.get(url__startswith=f"{TMDB_URL}/search/movie").respond(
        json=recorded("tmdb_search_movie")
    )
    tmdb.search("movie", "RRRrrrr")

    keys = list(cache._cache)  # the test's LocMemCache
    assert keys and not any(V3_KEY in key for key in keys)


def test_tmdb_missing_movie(network, tmdb_key):
    route = network.get(f"{TMDB_URL}/movie/1").respond(404, json=recorded("tmdb_error_not_found"))

    with pytest.raises(NotFound):
        tmdb.fetch("movie", 1)
    with pytest.raises(NotFound):
        tmdb.fetch("movie", 1)

    assert route.call_count == 1  # a 404 is remembered too


def test_an_id_that_is_not_one_is_not_found(network, tmdb_key):
    with pytest.raises(NotFound):
        tmdb.fetch("movie", "../search")
    with pytest.raises(NotFound):
        jikan.fetch("anime", -1)
    assert not network.calls


# Jikan: mapping.


def test_jikan_anime_details_of_mushishi(network):
    route = network.get(f"{JIKAN}/anime/457").respond(json=recorded("jikan_anime_detail"))

    record = jikan.fetch("anime", 457)

    assert (record.provider, record.kind, record.ids) == ("jikan", "anime", {"mal_id": 457})
    assert record.provider_id == 457
    assert record.title == "Mushishi"
    assert record.alt_titles == ("Mushi-Shi", "蟲師")
    assert record.year == 2005
    assert record.totals == {"episodes": 26}
    assert record.release_status == ReleaseStatus.FINISHED
    assert record.poster_url == "https://cdn.myanimelist.net/images/anime/2/73862l.jpg"
    assert record.synopsis.startswith('"Mushi": the most basic forms of life')
    assert record.synopsis.endswith("It could, after all, lead to the meaning of life itself.")
    assert "MAL Rewrite" not in record.synopsis
    assert jikan.page_url(record) == "https://myanimelist.net/anime/457"
    assert route.calls.last.request.headers["User-Agent"] == USER_AGENT
    KINDS["anime"].item_model(**record.catalog_fields()).full_clean()


def test_jikan_manga_details_of_fullmetal_alchemist(network):
    network.get(f"{JIKAN}/manga/25").respond(json=recorded("jikan_manga_detail"))

    record = jikan.fetch("manga", 25)

    assert record.ids == {"mal_id": 25}
    assert record.title == "Fullmetal Alchemist"
    # title_english is the title itself; titles[] repeats the synonyms: each name once.
    assert record.alt_titles == (
        "鋼の錬金術師",
        "Full Metal Alchemist",
        "Hagane no Renkinjutsushi",
        "FMA",
        "HagaRen",
        "Fullmetal Alchemist Gaiden",
    )
    assert record.year == 2001  # its `year` is null: from `published.from`
    assert record.totals == {"chapters": 116, "volumes": 27}
    assert record.release_status == ReleaseStatus.FINISHED
    assert record.poster_url == "https://cdn.myanimelist.net/images/manga/3/243675l.jpg"
    assert record.synopsis and not record.synopsis.endswith("]")
    assert jikan.page_url(record) == "https://myanimelist.net/manga/25"
    KINDS["manga"].item_model(**record.catalog_fields()).full_clean()


def test_jikan_anime_search(network):
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(
        json=recorded("jikan_anime_search")
    )

    records = jikan.search("anime", "naruto")

    assert [(r.provider_id, r.title, r.year) for r in records] == [
        (53240, "Naruto: Road of Naruto", 2022),  # `year` null: from `aired.from`
        (20, "Naruto", 2002),
    ]
    assert records[0].synopsis == ""  # null in the recording
    assert records[1].totals == {"episodes": 220}
    assert records[1].alt_titles == ("ナルト",)  # "NARUTO" is the title again
    assert dict(route.calls.last.request.url.params) == {"q": "naruto", "limit": "10"}


def test_jikan_manga_search(network):
    network.get(url__startswith=f"{JIKAN}/manga").respond(json=recorded("jikan_manga_search"))

    records = jikan.search("manga", "jujutsu kaisen", limit=5)

    still, done = records
    assert (still.provider_id, still.title, still.year) == (113138, "Jujutsu Kaisen", 2018)
    assert still.totals == {"chapters": None, "volumes": None}  # still publishing
    assert still.release_status == ReleaseStatus.RELEASING
    assert (done.provider_id, done.totals) == (115710, {"chapters": 4, "volumes": 1})
    assert done.alt_titles == (
        "Jujutsu Kaisen 0",
        "呪術廻戦 0 東京都立呪術高等専門学校",
        "Tokyo Metropolitan Magic Technical School",
    )


def test_jikan_search_lists_a_title_once(network):
    body = recorded("jikan_anime_search")
    body["data"] = body["data"] + copy.deepcopy(body["data"][:1])
    network.get(url__startswith=f"{JIKAN}/anime").respond(json=body)

    assert [r.provider_id for r in jikan.search("anime", "naruto")] == [53240, 20]


def test_jikan_search_asks_for_no_more_than_it_allows(network):
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(json={"data": []})

    assert jikan.search("anime", "naruto", limit=100) == []
    assert route.calls.last.request.url.params["limit"] == "25"


def test_jikan_anime_still_airing(network):
    body = recorded("jikan_anime_detail")
    body["data"]["episodes"] = None
    body["data"]["year"] = None
    body["data"]["status"] = "Currently Airing"
    network.get(f"{JIKAN}/anime/457").respond(json=body)

    record = jikan.fetch("anime", 457)

    assert record.totals == {"episodes": None}
    assert record.year == 2005  # from aired.from
    assert record.release_status == ReleaseStatus.RELEASING
    assert record.catalog_fields()["episodes"] is None


def test_jikan_anime_without_any_date(network):
    body = recorded("jikan_anime_detail")
    body["data"]["year"] = None
    body["data"]["aired"]["from"] = None
    network.get(f"{JIKAN}/anime/457").respond(json=body)

    assert jikan.fetch("anime", 457).year is None


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        ({"jpg": {"image_url": "https://cdn.myanimelist.net/images/anime/2/73862.jpg"}}, "small"),
        ({"jpg": {"image_url": None, "large_image_url": None}}, ""),
        ({"jpg": {"large_image_url": "https://cdn.myanimelist.net/images/qm_50.gif"}}, ""),
        ({"jpg": {"image_url": "https://cdn.myanimelist.net/img/sp/icon/icon-banned.png"}}, ""),
        (None, ""),
    ],
)
def test_jikan_posters(network, images, expected):
    body = recorded("jikan_anime_detail")
    body["data"]["images"] = images
    network.get(f"{JIKAN}/anime/457").respond(json=body)

    poster = jikan.fetch("anime", 457).poster_url

    assert poster == ("https://cdn.myanimelist.net/images/anime/2/73862.jpg" if expected else "")


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("anime", "Finished Airing", "finished"),
        ("anime", "Currently Airing", "releasing"),
        ("anime", "Not yet aired", "upcoming"),
        ("anime", "Finished", ""),
        ("manga", "Finished", "finished"),
        ("manga", "Publishing", "releasing"),
        ("manga", "On Hiatus", "hiatus"),
        ("manga", "Discontinued", "cancelled"),
        ("manga", "Not yet published", ""),
    ],
)
def test_jikan_release_status(network, kind, status, expected):
    name, mal_id = {"anime": ("jikan_anime_detail", 457), "manga": ("jikan_manga_detail", 25)}[kind]
    body = recorded(name)
    body["data"]["status"] = status
    network.get(f"{JIKAN}/{kind}/{mal_id}").respond(json=body)

    assert jikan.fetch(kind, mal_id).release_status == expected


def test_jikan_missing_title(network):
    route = network.get(f"{JIKAN}/anime/999999").respond(404, json=recorded("jikan_error_404"))

    with pytest.raises(NotFound):
        jikan.fetch("anime", 999999)
    with pytest.raises(NotFound):
        jikan.fetch("anime", 999999)

    assert route.call_count == 1


# Failing softly, within the budget.


def test_429_with_retry_after_then_an_answer(network, fake_time):
    route = network.get(f"{JIKAN}/anime/457")
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(200, json=recorded("jikan_anime_detail")),
    ]

    assert jikan.fetch("anime", 457).title == "Mushishi"

    assert route.call_count == 2
    assert fake_time.sleeps == [2.0]


def test_retry_after_as_an_http_date(network, fake_time):
    route = network.get(f"{JIKAN}/anime/457")
    when = formatdate(START + 3, usegmt=True)
    route.side_effect = [
        httpx.Response(503, headers={"Retry-After": when}),
        httpx.Response(200, json=recorded("jikan_anime_detail")),
    ]

    assert jikan.fetch("anime", 457).year == 2005
    assert fake_time.sleeps == [3.0]


def test_retry_after_values(fake_time):
    assert retry_after("7") == 7.0
    assert retry_after(" 0.5 ") == 0.5
    assert retry_after("-3") == 0.0
    assert retry_after(formatdate(START - 60, usegmt=True)) == 0.0
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_429_forever_gives_up_within_the_budget(network, fake_time):
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(429)

    with pytest.raises(Unavailable) as raised:
        jikan.search("anime", "naruto", budget=5)

    assert raised.value.message == "MyAnimeList is not reachable right now"
    assert fake_time.elapsed <= 5
    assert fake_time.sleeps == [0.5, 1.0, 2.0]  # the next wait (4 s) would pass the budget
    assert route.call_count == 4


def test_a_retry_after_past_the_budget_gives_up_at_once(network, fake_time):
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(
        429, headers={"Retry-After": "30"}
    )

    with pytest.raises(Unavailable):
        jikan.search("anime", "naruto")

    assert route.call_count == 1 and fake_time.sleeps == []


def test_the_page_budget_is_the_default(network, fake_time, settings):
    settings.PROVIDER_PAGE_BUDGET = 1
    network.get(url__startswith=f"{JIKAN}/anime").respond(500)

    with pytest.raises(Unavailable):
        jikan.search("anime", "naruto")

    assert fake_time.elapsed <= 1
    assert fake_time.sleeps == [0.5]


def test_a_larger_budget_retries_longer(network, fake_time):
    route = network.get(url__startswith=f"{JIKAN}/anime")
    route.side_effect = [httpx.Response(503)] * 4 + [
        httpx.Response(200, json=recorded("jikan_anime_search"))
    ]

    assert len(jikan.search("anime", "naruto", budget=60)) == 2
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0]


@pytest.mark.parametrize("statuses", [(500, 500, 500, 500), (503, 500, 502, 503)])
def test_server_errors_are_retried_then_unavailable(network, fake_time, tmdb_key, statuses):
    route = network.get(f"{TMDB_URL}/movie/550")
    route.side_effect = [httpx.Response(status) for status in statuses]

    with pytest.raises(Unavailable) as raised:
        tmdb.fetch("movie", 550)

    assert raised.value.message == "TMDB is not reachable right now"
    assert route.call_count == 4 and fake_time.elapsed <= 5


def test_a_server_error_then_an_answer(network, fake_time):
    route = network.get(f"{JIKAN}/manga/25")
    route.side_effect = [
        httpx.Response(500),
        httpx.Response(200, json=recorded("jikan_manga_detail")),
    ]

    assert jikan.fetch("manga", 25).totals == {"chapters": 116, "volumes": 27}
    assert fake_time.sleeps == [0.5]


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
def test_timeouts_and_broken_connections(network, fake_time, error):
    route = network.get(f"{JIKAN}/anime/457").mock(side_effect=error("down"))

    with pytest.raises(Unavailable):
        jikan.fetch("anime", 457)

    assert route.call_count == 4 and fake_time.elapsed <= 5


def test_each_request_is_bounded_by_what_is_left(network, fake_time):
    route = network.get(f"{JIKAN}/anime/457")
    route.side_effect = [
        httpx.Response(500),
        httpx.Response(200, json=recorded("jikan_anime_detail")),
    ]

    jikan.fetch("anime", 457, budget=4)

    first, second = (call.request.extensions["timeout"] for call in route.calls)
    assert first == {"connect": 3.0, "read": 4.0, "write": 4.0, "pool": 3.0}
    assert second["read"] == 3.5  # 0.5 s went on the backoff


def test_malformed_json_is_unavailable_and_not_kept(network, fake_time):
    route = network.get(f"{JIKAN}/anime/457").respond(200, text="<html>Bad gateway</html>")

    for _ in range(2):
        with pytest.raises(Unavailable):
            jikan.fetch("anime", 457)

    assert route.call_count == 2  # not retried (it would not change), not cached


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/anime/457", {"data": "x"}),
        ("/anime/457", {"data": {"title": "no id"}}),
        ("/anime/457", ["data"]),
        ("/anime/457", None),
        ("/anime?q=naruto&limit=10", {"data": "x"}),
        ("/anime?q=naruto&limit=10", {"pagination": {}}),
    ],
)
def test_an_unexpected_shape_is_unavailable(network, path, body):
    route = network.get(f"{JIKAN}{path}").respond(json=body)

    with pytest.raises(Unavailable):
        if "?" in path:
            jikan.search("anime", "naruto")
        else:
            jikan.fetch("anime", 457)
    assert route.call_count == 1


def test_an_unexpected_tmdb_shape_is_unavailable(network, tmdb_key):
    network.get(url__startswith=f"{TMDB_URL}/search/movie").respond(json={"results": "x"})
    network.get(f"{TMDB_URL}/movie/550").respond(json=[])

    with pytest.raises(Unavailable):
        tmdb.search("movie", "alien")
    with pytest.raises(Unavailable):
        tmdb.fetch("movie", 550)


def test_another_client_error_is_unavailable_without_retrying(network, fake_time):
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(400, json={"status": 400})

    with pytest.raises(Unavailable):
        jikan.search("anime", "naruto")

    assert route.call_count == 1 and not fake_time.sleeps


def test_every_failure_is_a_provider_error():
    for error in (NotConfigured, KeyRefused, Unavailable, NotFound):
        assert issubclass(error, ProviderError)
    assert NotConfigured("Movie search needs a TMDB key").message == "Movie search needs a TMDB key"


# The cache.


def test_asking_again_costs_no_request_and_no_slot(network):
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(
        json=recorded("jikan_anime_search")
    )

    first = jikan.search("anime", "naruto")
    again = jikan.search("anime", "naruto")

    assert first == again
    assert route.call_count == 1
    assert len(ProviderThrottle.objects.get(provider="jikan").calls) == 1


def test_another_question_is_asked(network):
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(
        json=recorded("jikan_anime_search")
    )

    jikan.search("anime", "naruto")
    jikan.search("anime", "naruto", limit=5)
    jikan.search("anime", "bleach")

    assert route.call_count == 3


def test_details_are_kept_too(network, tmdb_key):
    route = network.get(f"{TMDB_URL}/movie/550").respond(json=recorded("tmdb_movie_details"))

    assert tmdb.fetch("movie", 550) == tmdb.fetch("movie", "550")
    assert route.call_count == 1


def test_answers_are_kept_for_twelve_hours_and_404s_for_one(network, monkeypatch):
    kept = {}

    class Recording:
        get = staticmethod(cache.get)

        @staticmethod
        def set(key, value, timeout):
            kept[key] = timeout
            cache.set(key, value, timeout)

    monkeypatch.setattr(http, "cache", Recording)
    network.get(f"{JIKAN}/anime/457").respond(json=recorded("jikan_anime_detail"))
    network.get(f"{JIKAN}/anime/1").respond(404, json=recorded("jikan_error_404"))

    jikan.fetch("anime", 457)
    with pytest.raises(NotFound):
        jikan.fetch("anime", 1)

    assert sorted(kept.values()) == [60 * 60, 12 * 60 * 60]


# The record.


def test_catalog_fields_keep_within_the_models_bounds():
    record = Record(
        provider="jikan",
        kind="anime",
        ids={"mal_id": 1},
        title="x" * 300,
        alt_titles=("y",),
        year=1492,
        totals={"episodes": None},
    )

    fields = record.catalog_fields()

    assert len(fields["title"]) == 200
    assert fields["year"] is None
    assert fields["alt_titles"] == ["y"]
    assert fields["episodes"] is None and fields["mal_id"] == 1
    assert record.provider_id == 1


# The rate limit, shared through the database.

JIKAN_LIMITS = ((3, 1.0), (60, 60.0))


def test_a_fourth_request_in_a_second_waits(fake_time):
    for _ in range(3):
        throttle.acquire("jikan", JIKAN_LIMITS, START + 10, name="MyAnimeList")
    assert fake_time.sleeps == []

    throttle.acquire("jikan", JIKAN_LIMITS, START + 10, name="MyAnimeList")

    assert fake_time.sleeps == [1.0]
    assert fake_time.now == START + 1
    assert len(ProviderThrottle.objects.get(provider="jikan").calls) == 4


def test_the_sixty_first_request_in_a_minute_waits(fake_time):
    deadline = START + 300
    for _ in range(60):
        throttle.acquire("jikan", JIKAN_LIMITS, deadline)
    assert fake_time.now == START + 19  # three a second

    throttle.acquire("jikan", JIKAN_LIMITS, deadline)

    assert fake_time.now == START + 60  # when the first of the sixty leaves the minute
    calls = ProviderThrottle.objects.get(provider="jikan").calls
    assert len(calls) == 58 and min(calls) == START + 1  # the older ones are forgotten


def test_a_wait_past_the_deadline_is_busy(fake_time):
    for _ in range(3):
        throttle.acquire("jikan", JIKAN_LIMITS, START + 0.5)

    with pytest.raises(Unavailable) as raised:
        throttle.acquire("jikan", JIKAN_LIMITS, START + 0.5, name="MyAnimeList")

    assert raised.value.message == "MyAnimeList is busy right now"
    assert fake_time.sleeps == []


def test_providers_are_limited_apart(fake_time):
    for _ in range(3):
        throttle.acquire("jikan", JIKAN_LIMITS, START)
    for _ in range(40):
        throttle.acquire("tmdb", ((40, 1.0),), START)
    assert fake_time.sleeps == []
    with pytest.raises(Unavailable):
        throttle.acquire("tmdb", ((40, 1.0),), START)


def test_requests_of_other_processes_count(fake_time):
    ProviderThrottle.objects.create(provider="jikan", calls=[START - 0.5, START - 0.25, START])

    throttle.acquire("jikan", JIKAN_LIMITS, START + 5)

    assert fake_time.sleeps == [0.5]


def test_a_busy_provider_is_unavailable_to_a_page(network, fake_time):
    ProviderThrottle.objects.create(provider="jikan", calls=[START - 10 + n / 6 for n in range(60)])
    route = network.get(url__startswith=f"{JIKAN}/anime").respond(json={"data": []})

    with pytest.raises(Unavailable) as raised:
        jikan.search("anime", "naruto")

    assert raised.value.message == "MyAnimeList is busy right now"
    assert route.call_count == 0 and fake_time.sleeps == []


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_processes_share_the_limit(fake_time):
    # Each thread has its own connection: they race to make the row, then queue on its lock.
    threads, errors = 4, []
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    sleep = fake_time.sleep
    fake_time.sleep = lambda seconds: (lock.acquire(), sleep(seconds), lock.release())

    def take_slots():
        try:
            barrier.wait(timeout=30)
            for _ in range(3):
                throttle.acquire("jikan", JIKAN_LIMITS, START + 100)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=take_slots) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    calls = sorted(ProviderThrottle.objects.get(provider="jikan").calls)
    assert len(calls) == 12
    assert all(later - first >= 1 for first, later in zip(calls, calls[3:], strict=False))
