"""TV shows from TMDB: what the provider makes of TMDB's TV answers, how it fails softly, the
search page's Add and Save of a show, and the daily refresh of shows still airing.

Bodies come from tests/fixtures/providers/tmdb_tv_*.json: built by hand in the shape of TMDB's
documented answers, not recorded (tests/fixtures/SOURCES.md says which page, and what is
real). A quirk is made by changing keys of a body. Time is fake, and no test reaches the
network (`network`, in conftest, refuses what a test has not routed).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from media import tasks
from media.catalog import MAY_CHANGE, apply_record, due_for_refresh, refresh_item
from media.kinds import KINDS
from media.models import ReleaseStatus, SavedShow, Show
from media.providers import (
    PROVIDERS,
    NotConfigured,
    NotFound,
    Unavailable,
    for_kind,
)
from media.providers.tmdb import WORDS, show_totals
from tests.conftest import HTMX, PROVIDER_FIXTURES, TMDB_URL, V3_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_time")]

FIXTURES = PROVIDER_FIXTURES
SHOW = KINDS["show"]
BREAKING_BAD_SEASONS = [
    {"number": 0, "episodes": 9},
    {"number": 1, "episodes": 7},
    {"number": 2, "episodes": 13},
    {"number": 3, "episodes": 13},
    {"number": 4, "episodes": 13},
    {"number": 5, "episodes": 16},
]
POSTER = "https://image.tmdb.org/t/p/w342/ggFHVNu6YYI5L9pCfOacjizRGt.jpg"

tmdb = PROVIDERS["tmdb"]


def built(name: str):
    """A fresh copy of a hand-built TMDB body."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def details(**changes) -> dict:
    """Breaking Bad's details with some keys changed."""
    return {**built("tmdb_tv_details"), **changes}


def tmdb_season(number, episodes, **more) -> dict:
    """A season as TMDB lists it in a show's details."""
    return {
        "air_date": None,
        "episode_count": episodes,
        "id": 900000 + number,
        "name": f"Season {number}",
        "overview": "",
        "poster_path": None,
        "season_number": number,
        "vote_average": 0,
        **more,
    }


def route_details(network, body=None, tmdb_id=1396):
    return network.get(url__startswith=f"{TMDB_URL}/tv/{tmdb_id}").respond(
        json=details() if body is None else body
    )


# The provider: TMDB serves shows.


def test_tmdb_is_the_provider_of_shows():
    assert for_kind("show") is tmdb
    assert tmdb.kinds == ("movie", "show")
    assert tmdb.title_url("show", 1396) == "https://www.themoviedb.org/tv/1396"
    assert tmdb.title_url("movie", 550) == "https://www.themoviedb.org/movie/550"


def test_search_lists_shows_without_seasons(network, tmdb_key):
    route = network.get(url__startswith=f"{TMDB_URL}/search/tv").respond(
        json=built("tmdb_tv_search")
    )

    records = tmdb.search("show", "  break ")

    assert [(r.kind, r.provider_id, r.title, r.year) for r in records] == [
        ("show", 1396, "Breaking Bad", 2008),
        ("show", 2288, "Prison Break", 2005),
    ]
    breaking_bad = records[0]
    assert breaking_bad.ids == {"tmdb_id": 1396}  # the IMDb id comes with details only
    # A search knows no seasons: no "seasons" at all, so adding or refreshing erases none.
    assert breaking_bad.totals == {"season_count": None, "episodes": None}
    assert breaking_bad.release_status == ""  # a search result has no status
    assert breaking_bad.poster_url == POSTER
    assert breaking_bad.alt_titles == ()  # its original name is its name
    assert breaking_bad.synopsis.startswith("A chemistry teacher")
    request = route.calls.last.request
    assert request.url.path == "/3/search/tv"
    assert (request.url.params["query"], request.url.params["include_adult"]) == (
        "break",
        "false",
    )
    assert request.url.params["api_key"] == V3_KEY
    show = Show(**breaking_bad.catalog_fields())
    show.full_clean()
    assert show.seasons == [] and show.season_count is None


def test_search_keeps_to_the_limit_and_an_empty_query_asks_nothing(network, tmdb_key):
    network.get(url__startswith=f"{TMDB_URL}/search/tv").respond(json=built("tmdb_tv_search"))

    assert len(tmdb.search("show", "break", limit=1)) == 1
    assert tmdb.search("show", "   ") == []
    assert len(network.calls) == 1


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"original_name": "Bräking Bäd"}, "alt_titles", ("Bräking Bäd",)),
        ({"name": "", "original_name": "Breaking Bad"}, "title", "Breaking Bad"),
        ({"name": None, "original_name": "ブレイキング・バッド"}, "title", "ブレイキング・バッド"),
        ({"first_air_date": ""}, "year", None),
        ({"first_air_date": None}, "year", None),
        ({"poster_path": None}, "poster_url", ""),
        ({"overview": None}, "synopsis", ""),
    ],
)
def test_search_quirks(network, tmdb_key, changes, field, expected):
    body = built("tmdb_tv_search")
    body["results"][0].update(changes)
    network.get(url__startswith=f"{TMDB_URL}/search/tv").respond(json=body)

    assert getattr(tmdb.search("show", "break")[0], field) == expected


def test_a_result_without_an_id_or_a_name_is_left_out(network, tmdb_key):
    body = built("tmdb_tv_search")
    body["results"][0]["id"] = None
    body["results"][1].update(name="", original_name=None)
    body["results"].append("not a show")
    network.get(url__startswith=f"{TMDB_URL}/search/tv").respond(json=body)

    assert tmdb.search("show", "break") == []


# The provider: a show's details.


def test_details_of_breaking_bad(network, tmdb_key):
    route = route_details(network)

    record = tmdb.fetch("show", 1396)

    assert (record.provider, record.kind) == ("tmdb", "show")
    assert record.ids == {"tmdb_id": 1396, "imdb_id": "tt0903747"}
    assert record.title == "Breaking Bad" and record.alt_titles == ()
    assert record.year == 2008
    assert record.release_status == ReleaseStatus.FINISHED  # "Ended"
    assert record.poster_url == POSTER
    assert record.synopsis.startswith("A chemistry teacher")
    assert record.totals == {
        "seasons": BREAKING_BAD_SEASONS,  # the specials listed, as season 0
        "season_count": 5,  # the specials are not a season
        "episodes": 62,  # nor are their episodes counted
    }
    assert tmdb.page_url(record) == "https://www.themoviedb.org/tv/1396"
    # One request brings the seasons and the IMDb id.
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.url.path == "/3/tv/1396"
    assert request.url.params["append_to_response"] == "external_ids"


def test_details_agree_with_tmdbs_own_counts_and_fit_the_model(network, tmdb_key):
    body = details()
    route_details(network, body)

    fields = tmdb.fetch("show", "1396").catalog_fields()

    assert (fields["season_count"], fields["episodes"]) == (
        body["number_of_seasons"],
        body["number_of_episodes"],
    )
    show = Show(**fields)
    show.full_clean()
    show.fill_totals()  # what the model derives from the seasons is what the record says
    assert (show.season_count, show.episodes) == (5, 62)
    assert show.specials == 9
    assert show.regular_seasons == [(1, 7), (2, 13), (3, 13), (4, 13), (5, 16)]


@pytest.mark.parametrize(
    "seasons",
    [
        BREAKING_BAD_SEASONS,
        [{"number": 0, "episodes": 4}],  # only specials: no season, no episodes
        [{"number": 1, "episodes": 8}, {"number": 2, "episodes": 0}],  # one announced
        [{"number": 1, "episodes": 0}],  # announced, nothing aired
        [{"number": 2, "episodes": 10}, {"number": 5, "episodes": 3}],  # numbers with gaps
        [],
    ],
    ids=["breaking-bad", "only-specials", "announced", "nothing-aired", "gaps", "none"],
)
def test_totals_are_what_show_fill_totals_derives(seasons):
    tmdb_seasons = [tmdb_season(s["number"], s["episodes"]) for s in reversed(seasons)]

    totals = show_totals(tmdb_seasons)

    assert totals["seasons"] == seasons  # in order, whatever TMDB's order
    show = Show(seasons=totals["seasons"])
    show.fill_totals()
    assert (totals["season_count"], totals["episodes"]) == (show.season_count, show.episodes)


def test_malformed_seasons_are_skipped(network, tmdb_key):
    body = details(
        seasons=[
            tmdb_season(0, 2),
            tmdb_season(1, 7),
            tmdb_season(2, 13),
            tmdb_season(2, 99),  # the same number again: the first one stands
            {**tmdb_season(3, 13), "season_number": "3"},
            {**tmdb_season(4, 13), "season_number": None},
            {**tmdb_season(5, 13), "season_number": -1},
            {**tmdb_season(6, 13), "season_number": True},
            {**tmdb_season(7, 13), "season_number": 7.5},
            tmdb_season(8, None),
            tmdb_season(9, -4),
            tmdb_season(10, 40000),  # past what the catalog can keep
            tmdb_season(11, "12"),
            {"season_number": 12},
            "Season 13",
            None,
        ]
    )
    route_details(network, body)

    record = tmdb.fetch("show", 1396)

    assert record.totals == {
        "seasons": [
            {"number": 0, "episodes": 2},
            {"number": 1, "episodes": 7},
            {"number": 2, "episodes": 13},
        ],
        "season_count": 2,
        "episodes": 20,
    }
    Show(**record.catalog_fields()).full_clean()


@pytest.mark.parametrize("seasons", [None, "five", {"1": 7}], ids=["null", "text", "object"])
def test_seasons_that_are_not_a_list_are_unknown(network, tmdb_key, seasons):
    route_details(network, details(seasons=seasons))

    record = tmdb.fetch("show", 1396)

    assert record.totals == {"seasons": [], "season_count": None, "episodes": None}
    assert record.catalog_fields()["seasons"] == []  # which apply_record skips: nothing erased


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Returning Series", "releasing"),
        ("In Production", "upcoming"),
        ("Planned", "upcoming"),
        ("Pilot", "upcoming"),
        ("Ended", "finished"),
        ("Canceled", "cancelled"),
        ("Cancelled", "cancelled"),
        ("Released", ""),  # a movie's word, not a show's
        ("Something new", ""),
        ("", ""),
        (None, ""),
        (["Ended"], ""),
    ],
)
def test_release_status(network, tmdb_key, status, expected):
    route_details(network, details(status=status))

    assert tmdb.fetch("show", 1396).release_status == expected


@pytest.mark.parametrize(
    "external_ids",
    [
        {"imdb_id": None, "tvdb_id": 81189},
        {"imdb_id": "", "tvdb_id": 81189},
        {"imdb_id": "nm0319213"},  # not a title's id
        {"tvdb_id": 81189},
        None,
        "tt0903747",
    ],
)
def test_an_imdb_id_is_taken_only_when_valid(network, tmdb_key, external_ids):
    route_details(network, details(external_ids=external_ids))

    assert tmdb.fetch("show", 1396).ids == {"tmdb_id": 1396}


def test_a_show_without_external_ids_appended_has_no_imdb_id(network, tmdb_key):
    body = details()
    del body["external_ids"]
    body["imdb_id"] = "tt0903747"  # a show's own fields never carry it: only external_ids
    route_details(network, body)

    assert tmdb.fetch("show", 1396).ids == {"tmdb_id": 1396}


# The provider: failing softly.


def test_a_missing_show_is_not_found_and_remembered(network, tmdb_key):
    route = network.get(url__startswith=f"{TMDB_URL}/tv/1").respond(
        404, json=built("tmdb_error_not_found")
    )

    for _ in range(2):
        with pytest.raises(NotFound):
            tmdb.fetch("show", 1)

    assert route.call_count == 1


def test_an_id_that_is_not_one_asks_nothing(network, tmdb_key):
    for bad in ("../search", -5, 0, None, "1396; drop"):
        with pytest.raises(NotFound):
            tmdb.fetch("show", bad)
    assert not network.calls


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_unavailable(network, tmdb_key, fake_time, status):
    route = network.get(url__startswith=f"{TMDB_URL}/tv/1396").respond(status)

    with pytest.raises(Unavailable) as raised:
        tmdb.fetch("show", 1396)

    assert raised.value.message == "TMDB is not reachable right now"
    assert route.call_count == 4 and sum(fake_time.sleeps) <= 5


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
def test_timeouts_are_unavailable(network, tmdb_key, error):
    network.get(url__startswith=f"{TMDB_URL}/search/tv").mock(side_effect=error("down"))

    with pytest.raises(Unavailable):
        tmdb.search("show", "break")


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/tv/1396", httpx.Response(200, text="<html>Bad gateway</html>")),
        ("/tv/1396", httpx.Response(200, json=[])),
        ("/tv/1396", httpx.Response(200, json={"name": "no id"})),
        ("/tv/1396", httpx.Response(200, json=None)),
        ("/search/tv", httpx.Response(200, json={"results": "x"})),
        ("/search/tv", httpx.Response(200, json={"page": 1})),
        ("/find/tt0903747", httpx.Response(200, json={"movie_results": []})),
    ],
    ids=["html", "list", "no-id", "null", "results-text", "no-results", "find-without-tv"],
)
def test_garbage_is_unavailable(network, tmdb_key, path, answer):
    network.get(url__startswith=f"{TMDB_URL}{path}").mock(return_value=answer)

    with pytest.raises(Unavailable):
        if path.startswith("/search"):
            tmdb.search("show", "break")
        elif path.startswith("/find"):
            tmdb.find_imdb("tt0903747", kind_key="show")
        else:
            tmdb.fetch("show", 1396)


def test_without_a_key_a_show_search_says_so_in_a_shows_words(network):
    calls = (
        lambda: tmdb.search("show", "break"),
        lambda: tmdb.fetch("show", 1396),
        lambda: tmdb.find_imdb("tt0903747", kind_key="show"),
    )
    for call in calls:
        with pytest.raises(NotConfigured) as raised:
            call()
        assert raised.value.message == "TV show search needs a TMDB key"
    with pytest.raises(NotConfigured) as raised:
        tmdb.search("movie", "alien")
    assert raised.value.message == "Movie search needs a TMDB key"
    assert not network.calls


# The provider: a show by its IMDb id.


def test_find_imdb_finds_a_show(network, tmdb_key):
    route = network.get(url__startswith=f"{TMDB_URL}/find/tt0903747").respond(
        json=built("tmdb_tv_find")
    )

    record = tmdb.find_imdb("tt0903747", kind_key="show")

    assert (record.kind, record.title, record.year) == ("show", "Breaking Bad", 2008)
    assert record.ids == {"tmdb_id": 1396, "imdb_id": "tt0903747"}
    assert record.totals == {"season_count": None, "episodes": None}  # no seasons in /find
    assert record.release_status == ""
    assert route.calls.last.request.url.params["external_source"] == "imdb_id"


def test_find_imdb_keeps_the_kinds_apart(network, tmdb_key):
    network.get(url__startswith=f"{TMDB_URL}/find/tt0903747").respond(json=built("tmdb_tv_find"))

    assert tmdb.find_imdb("tt0903747") is None  # a movie by default: /find has no movie
    assert tmdb.find_imdb("tt0903747", kind_key="movie") is None
    assert tmdb.find_imdb("tt0903747", kind_key="show").provider_id == 1396
    assert len(network.calls) == 1  # the same answer, kept
    with pytest.raises(TypeError):
        tmdb.find_imdb("tt0903747", "show")  # the kind is keyword-only
    with pytest.raises(ValueError):
        tmdb.find_imdb("tt0903747", kind_key="anime")


def test_find_imdb_without_a_show(network, tmdb_key):
    body = {**built("tmdb_tv_find"), "tv_results": []}
    network.get(url__startswith=f"{TMDB_URL}/find/tt0000001").respond(json=body)

    assert tmdb.find_imdb("tt0000001", kind_key="show") is None
    assert tmdb.find_imdb("not an id", kind_key="show") is None  # asks nothing
    assert len(network.calls) == 1


# The search page: a show found online, added and saved.


def test_the_search_page_finds_shows_online(client, network, tmdb_key):
    route = network.get(url__startswith=f"{TMDB_URL}/search/tv").respond(
        json=built("tmdb_tv_search")
    )

    page = client.get("/search/show/online/", {"q": "break"})

    assert page.status_code == 200 and route.call_count == 1
    text = page.text
    assert "From TMDB" in text
    assert "Breaking Bad" in text and "2008" in text
    assert "Prison Break" in text and "2005" in text
    assert 'name="provider_id" value="1396"' in text
    assert 'action="/add/show/"' in text
    assert f'src="{POSTER}"' in text
    assert "This product uses the TMDB API but is not endorsed or certified by TMDB." in text
    section = client.get("/search/show/online/", {"q": "break"}, **HTMX)
    assert "<html" not in section.text and "Breaking Bad" in section.text
    assert route.call_count == 1  # the answer was kept


def test_without_a_key_the_tv_section_says_so_and_asks_nothing(client, network, db):
    page = client.get("/search/show/online/", {"q": "break"})
    assert "TV show search needs a TMDB key" in page.text
    search = client.get("/search/", {"q": "break"})
    assert "TV show search needs a TMDB key" in search.text
    assert "Movie search needs a TMDB key" in search.text
    assert not network.calls


def test_adding_a_show_makes_it_with_its_seasons_once(auth_client, network, tmdb_key):
    route = route_details(network)

    answer = auth_client.post("/add/show/", {"provider_id": 1396, "intent": "add"})

    show = Show.objects.get(tmdb_id=1396)
    assert answer.status_code == 303 and answer["Location"] == show.get_absolute_url()
    assert (show.title, show.year, show.imdb_id) == ("Breaking Bad", 2008, "tt0903747")
    assert show.seasons == BREAKING_BAD_SEASONS
    assert (show.season_count, show.episodes, show.specials) == (5, 62, 9)
    assert show.release_status == ReleaseStatus.FINISHED
    assert show.poster_url == POSTER and show.refreshed is not None
    again = auth_client.post("/add/show/", {"provider_id": 1396, "intent": "add"})
    assert again["Location"] == show.get_absolute_url()
    assert Show.objects.count() == 1
    assert route.call_count == 1
    page = auth_client.get(show.get_absolute_url())
    assert "Breaking Bad" in page.text
    assert "5 seasons" in page.text and "62 episodes" in page.text
    assert 'href="https://www.themoviedb.org/tv/1396"' in page.text


def test_saving_a_show_adds_and_saves_it_in_one_press(auth_client, user, network, tmdb_key):
    route_details(network)

    answer = auth_client.post(
        "/add/show/", {"provider_id": 1396, "intent": "save", "next": "/search/?q=break"}
    )

    assert answer.status_code == 303 and answer["Location"] == "/search/?q=break"
    show = Show.objects.get(tmdb_id=1396)
    saved = SavedShow.objects.get(user=user, show=show)
    assert (saved.season_progress, saved.episode_progress) == (0, 0)
    assert show.seasons == BREAKING_BAD_SEASONS


def test_htmx_save_of_a_show_swaps_in_the_catalog_title(auth_client, network, tmdb_key):
    route_details(network)

    answer = auth_client.post(
        "/add/show/", {"provider_id": 1396, "intent": "save", "next": "/search/?q=b"}, **HTMX
    )

    show = Show.objects.get(tmdb_id=1396)
    assert answer.status_code == 200
    assert 'id="online-show-1396"' in answer.text
    assert "Added and saved “Breaking Bad”." in answer.text
    assert f'href="{show.get_absolute_url()}"' in answer.text


def test_adding_an_unknown_show_is_a_404(auth_client, network, tmdb_key):
    network.get(url__startswith=f"{TMDB_URL}/tv/7").respond(404, json=built("tmdb_error_not_found"))

    answer = auth_client.post("/add/show/", {"provider_id": 7, "intent": "add"})

    assert answer.status_code == 404
    assert "TMDB has no TV show with the id 7" in answer.text
    assert not Show.objects.exists()


def test_a_local_show_takes_tmdbs_ids_and_seasons_instead_of_a_twin(auth_client, network, tmdb_key):
    route_details(network)
    local = Show.objects.create(title="Breaking Bad", year=2008, synopsis="Ours.")

    auth_client.post("/add/show/", {"provider_id": 1396, "intent": "add"})

    local.refresh_from_db()
    assert (local.tmdb_id, local.imdb_id) == (1396, "tt0903747")
    assert (local.season_count, local.episodes) == (5, 62)
    assert Show.objects.count() == 1


# The daily refresh: shows still airing are read again, with no code of their own.


def airing(title="Breaking Bad", tmdb_id=1396, status=ReleaseStatus.RELEASING, **fields):
    return Show.objects.create(title=title, tmdb_id=tmdb_id, release_status=status, **fields)


def test_returning_and_in_production_shows_are_due_daily(network, tmdb_key):
    returning = airing("Returning", 1, ReleaseStatus.RELEASING)
    coming = airing("In production", 2, ReleaseStatus.UPCOMING)
    ended = airing("Ended", 3, ReleaseStatus.FINISHED)
    cancelled = airing("Cancelled", 4, ReleaseStatus.CANCELLED)
    local = airing("Ours", None, ReleaseStatus.RELEASING)
    read_today = airing("Read today", 5, refreshed=timezone.now() - timedelta(hours=2))
    read_yesterday = airing("Read yesterday", 6, refreshed=timezone.now() - timedelta(days=2))

    due = list(due_for_refresh(SHOW))

    assert set(due) == {returning, coming, read_yesterday}
    for show in (ended, cancelled, local, read_today):
        assert show not in due
    airing_words = ("Returning Series", "In Production", "Planned", "Pilot")
    assert {WORDS["show"].statuses[word] for word in airing_words} <= set(MAY_CHANGE)


def test_the_daily_refresh_covers_shows_like_every_kind(network, tmdb_key):
    show = airing(seasons=[{"number": 1, "episodes": 7}])
    route = route_details(network, details(status="Returning Series"))

    summary = tasks.refresh_titles()  # every kind, as the daily task runs it

    assert set(summary["kinds"]) == set(KINDS)
    assert summary["kinds"]["show"]["refreshed"] == 1 and summary["failed"] == 0
    assert route.call_count == 1
    assert route.calls.last.request.url.params["append_to_response"] == "external_ids"
    show.refresh_from_db()
    assert show.seasons == BREAKING_BAD_SEASONS
    assert (show.season_count, show.episodes, show.imdb_id) == (5, 62, "tt0903747")
    assert show.refreshed is not None
    assert list(due_for_refresh(SHOW)) == []  # read today: not again until tomorrow


def test_without_a_key_the_refresh_skips_shows(network, settings):
    airing()

    summary = tasks.refresh_titles([SHOW])

    assert summary["kinds"]["show"]["note"] == "TMDB is not configured"
    assert "TV shows: skipped (TMDB is not configured)" in tasks.summary_lines(summary)
    assert not network.calls


def test_a_refresh_takes_news_but_keeps_a_tracked_season_that_shrank(
    network, tmdb_key, user, other_user, caplog
):
    show = airing(seasons=[{"number": 1, "episodes": 7}, {"number": 2, "episodes": 8}])
    SavedShow.objects.create(user=user, show=show, season_progress=2, episode_progress=8)
    SavedShow.objects.create(user=other_user, show=show, season_progress=1, episode_progress=5)
    # TMDB now lists specials, season 2 with 6 episodes (a correction), and a season 3.
    body = details(
        status="Returning Series",
        seasons=[tmdb_season(0, 3), tmdb_season(1, 7), tmdb_season(2, 6), tmdb_season(3, 10)],
    )
    route_details(network, body)

    with caplog.at_level(logging.INFO, logger="shelf.catalog"):
        changed = refresh_item(SHOW, show)

    show.refresh_from_db()
    assert show.seasons == [
        {"number": 0, "episodes": 3},  # new specials: taken
        {"number": 1, "episodes": 7},
        {"number": 2, "episodes": 8},  # below someone's S2 E8: kept
        {"number": 3, "episodes": 10},  # a new season: taken
    ]
    assert (show.season_count, show.episodes, show.specials) == (3, 25, 3)  # they follow
    assert show.release_status == ReleaseStatus.RELEASING
    assert {"seasons", "imdb_id"} <= set(changed)
    kept = [
        r
        for r in caplog.records
        if r.name == "shelf.catalog" and r.levelno == logging.WARNING and "Kept" in r.getMessage()
    ]
    assert len(kept) == 1
    assert kept[0].getMessage().startswith(f"Kept seasons of show Breaking Bad (pk {show.pk})")
    assert "'number': 2, 'episodes': 6}" in kept[0].getMessage()  # what TMDB said
    assert kept[0].getMessage().endswith("below the {1: 5, 2: 8} someone tracked")
    saved = SavedShow.objects.get(user=user)
    assert (saved.season_progress, saved.episode_progress) == (2, 8)


def test_a_tracked_season_tmdb_no_longer_lists_is_kept(network, tmdb_key, user, caplog):
    seasons = [{"number": n, "episodes": 10} for n in (1, 2, 3)]
    show = airing(seasons=seasons)
    SavedShow.objects.create(user=user, show=show, season_progress=3, episode_progress=2)
    body = details(status="Returning Series", seasons=[tmdb_season(1, 10), tmdb_season(2, 12)])
    route_details(network, body)

    with caplog.at_level(logging.WARNING, logger="shelf.catalog"):
        refresh_item(SHOW, show)

    show.refresh_from_db()
    assert show.seasons == [
        {"number": 1, "episodes": 10},
        {"number": 2, "episodes": 12},  # grown: taken
        {"number": 3, "episodes": 10},  # someone is in it: kept as it was
    ]
    assert (show.season_count, show.episodes) == (3, 32)
    messages = [r.getMessage() for r in caplog.records if r.name == "shelf.catalog"]
    assert any(m.startswith("Kept seasons of show Breaking Bad") for m in messages)


def test_a_refresh_without_seasons_erases_none(network, tmdb_key):
    show = airing(seasons=BREAKING_BAD_SEASONS, imdb_id="tt0903747")
    search_record = tmdb_search_record(network)

    changed = apply_record(SHOW, show, search_record)

    show.refresh_from_db()
    assert "seasons" not in changed
    assert show.seasons == BREAKING_BAD_SEASONS
    assert (show.season_count, show.episodes) == (5, 62)
    route_details(network, details(seasons=None, status="Returning Series"))
    refresh_item(SHOW, show)
    show.refresh_from_db()
    assert show.seasons == BREAKING_BAD_SEASONS
    assert (show.season_count, show.episodes) == (5, 62)


def tmdb_search_record(network):
    network.get(url__startswith=f"{TMDB_URL}/search/tv").respond(json=built("tmdb_tv_search"))
    return tmdb.search("show", "breaking")[0]


# The browser tests' stand-in (e2e/standin.py) answers TMDB's TV paths from these bodies.


@pytest.fixture
def standin(settings, tmdb_key):
    from e2e.standin import StandIn

    server = StandIn().start()
    settings.TMDB_API_URL = f"{server.url}/tmdb/3"
    settings.TMDB_IMAGE_URL = f"{server.url}/images/t/p"  # TMDB gives paths, not addresses
    yield server
    server.shutdown()
    server.server_close()


def test_the_standin_finds_adds_and_finds_by_imdb_id_a_show(standin):
    found = tmdb.search("show", "breaking bad")
    assert [(r.provider_id, r.title) for r in found] == [(1396, "Breaking Bad")]
    assert found[0].poster_url == f"{standin.url}/images/t/p/w342/ggFHVNu6YYI5L9pCfOacjizRGt.jpg"
    assert httpx.get(found[0].poster_url).headers["Content-Type"] == "image/png"
    assert [r.title for r in tmdb.search("show", "break")] == ["Breaking Bad", "Prison Break"]
    assert tmdb.search("show", "naruto") == []

    record = tmdb.fetch("show", 1396)
    assert record.totals["seasons"] == BREAKING_BAD_SEASONS
    assert record.ids == {"tmdb_id": 1396, "imdb_id": "tt0903747"}
    assert tmdb.fetch("show", 2288).title == "Prison Break"  # from the search: no seasons
    with pytest.raises(NotFound):
        tmdb.fetch("show", 1)

    assert tmdb.find_imdb("tt0903747", kind_key="show").provider_id == 1396
    assert tmdb.find_imdb("tt0000001", kind_key="show") is None
    assert tmdb.find_imdb("tt0903747", kind_key="movie") is None
    assert tmdb.search("movie", "rrrrrrr")[0].title == "RRRrrrr!!!"  # movies as before
    assert any(path.startswith("/tmdb/3/tv/1396?") for path in standin.requests)
