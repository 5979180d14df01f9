"""Search: what people type finds catalog titles, providers' titles come after, and Add and
Save turn a provider's title into a catalog title once."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from django.urls import reverse

from media.kinds import KINDS
from media.models import Anime, Manga, Movie
from media.search import matching
from media.text import normalize, search_text
from tests.conftest import HTMX, TMDB_URL

PROVIDER_FIXTURES = Path(__file__).parent / "fixtures" / "providers"
JIKAN = "https://jikan.test/v4"
TMDB = TMDB_URL


def recorded(name: str) -> dict:
    return json.loads((PROVIDER_FIXTURES / name).read_text(encoding="utf-8"))


def naruto_search() -> dict:
    """Jikan's recorded anime search: "Naruto: Road of Naruto" (53240) and "Naruto" (20)."""
    return recorded("jikan_anime_search.json")


def naruto_detail() -> dict:
    """Naruto's detail answer: Jikan answers /anime/{id} with the search entry's shape."""
    return {"data": next(e for e in naruto_search()["data"] if e["mal_id"] == 20)}


def route_jikan(network, *, search=None, detail=None, status=200):
    routes = {}
    if search is not None or status != 200:
        routes["search"] = network.get(url__startswith=f"{JIKAN}/anime?").respond(
            status, json=search or {}
        )
    if detail is not None:
        routes["detail"] = network.get(url__startswith=f"{JIKAN}/anime/20").respond(
            200, json=detail
        )
    return routes


# Normalised matching.


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("steins gate", "Steins;Gate"),
        ("STEINS;GATE", "Steins;Gate"),
        ("pokemon", "Pokémon"),
        ("re zero", "Re:Zero − Starting Life in Another World"),
        ("fullmetal alchemist brotherhood", "Fullmetal Alchemist: Brotherhood"),
    ],
)
def test_normalised_terms_are_found_in_normalised_names(typed, stored):
    assert normalize(typed) in search_text(stored)


def test_a_match_never_spans_two_names():
    text = search_text("Attack on Titan", ["Shingeki no Kyojin"])
    assert "shingeki no kyojin" in text
    assert normalize("titan shingeki") not in text


@pytest.fixture
def catalog(db):
    return {
        "steins": Anime.objects.create(title="Steins;Gate", year=2011, episodes=24, mal_id=9253),
        "aot": Anime.objects.create(
            title="Attack on Titan", year=2013, episodes=25, alt_titles=["Shingeki no Kyojin"]
        ),
        "amelie": Movie.objects.create(title="Amélie", year=2001, runtime_minutes=122),
        "aot_manga": Manga.objects.create(
            title="Attack on Titan", year=2009, chapters=139, alt_titles=["Shingeki no Kyojin"]
        ),
    }


@pytest.mark.parametrize(
    ("kind", "query", "expected"),
    [
        ("anime", "steins gate", ["steins"]),
        ("anime", "Steins;Gate", ["steins"]),
        ("anime", "shingeki no kyojin", ["aot"]),
        ("anime", "TITAN", ["aot"]),
        ("movie", "amelie", ["amelie"]),
        ("manga", "kyojin", ["aot_manga"]),
        ("anime", "amelie", []),
        ("anime", ";;;", []),
    ],
)
def test_matching_ignores_case_punctuation_accents_and_reads_alternative_titles(
    catalog, kind, query, expected
):
    assert list(matching(KINDS[kind], query)) == [catalog[name] for name in expected]


def test_a_renamed_title_is_found_by_its_new_name_only(catalog):
    anime = catalog["steins"]
    anime.title = "Steins Gate Zero"
    anime.alt_titles = ["Shutainzu Geto Zero"]
    anime.save()
    assert list(matching(KINDS["anime"], "shutainzu")) == [anime]
    anime.title = "Something else"
    anime.alt_titles = []
    anime.save(update_fields=["title", "alt_titles"])
    assert list(matching(KINDS["anime"], "steins")) == []
    anime.delete()
    assert list(matching(KINDS["anime"], "something")) == []


def test_titles_that_start_with_the_term_come_first(db):
    later = Anime.objects.create(title="A Silent Voice", year=2016)
    first = Anime.objects.create(title="Voice of Fox", year=2020)
    assert list(matching(KINDS["anime"], "voice")) == [first, later]


def test_the_kind_list_search_uses_the_same_matching(client, catalog):
    page = client.get("/anime/", {"q": "shingeki no kyojin"})
    assert page.status_code == 200
    assert "Attack on Titan" in page.text
    assert "1 result" in page.text


# The search page.


def test_the_header_has_one_search_box_for_every_kind(client, db):
    page = client.get("/")
    assert 'action="/search/"' in page.text
    assert 'role="search"' in page.text


def test_search_lists_local_matches_of_every_kind_then_a_provider_section(client, catalog):
    page = client.get("/search/", {"q": "attack on titan"})
    assert page.status_code == 200
    text = page.text
    assert text.index('id="search-anime"') < text.index('id="search-manga"')
    assert text.count("Attack on Titan") >= 2  # the anime and the manga
    # Without JavaScript: a link to the provider's results; with it, htmx loads that link.
    online = reverse("media:search_online", kwargs={"kind": "anime"}) + "?q=attack%20on%20titan"
    assert f'href="{online}"' in text
    assert f'hx-get="{online}"' in text
    assert "Search MyAnimeList for “attack on titan” in anime" in text
    assert "Movie search needs a TMDB key" in text


def test_search_without_a_query_explains_itself(client, db):
    page = client.get("/search/")
    assert page.status_code == 200
    assert "Shingeki no Kyojin" in page.text


def test_a_too_long_query_is_a_clear_400(client, db):
    page = client.get("/search/", {"q": "x" * 201})
    assert page.status_code == 400
    assert "at most 200 characters" in page.text


# A provider's results.


def test_provider_results_show_poster_year_totals_and_add_and_save(client, db, network):
    routes = route_jikan(network, search=naruto_search())
    page = client.get("/search/anime/online/", {"q": "naruto"})
    assert page.status_code == 200
    assert routes["search"].call_count == 1
    text = page.text
    assert "Naruto" in text and "2002" in text and "220 episodes" in text
    assert 'src="https://cdn.myanimelist.net/images/anime/13/17405' in text
    assert 'width="64" height="96" loading="lazy"' in text
    assert 'name="intent" value="add"' in text
    assert 'name="provider_id" value="20"' in text
    assert "<html" in text  # without htmx: a page of its own


def test_htmx_gets_the_section_alone(client, db, network):
    route_jikan(network, search=naruto_search())
    page = client.get("/search/anime/online/", {"q": "naruto"}, **HTMX)
    assert page.status_code == 200
    assert "<html" not in page.text
    assert "From MyAnimeList" in page.text
    assert page["Vary"] and "HX-Request" in page["Vary"]


def test_a_title_already_in_the_catalog_links_to_its_page(client, db, network):
    route_jikan(network, search=naruto_search())
    naruto = Anime.objects.create(title="Naruto", year=2002, episodes=220, mal_id=20)
    text = client.get("/search/anime/online/", {"q": "naruto"}).text
    assert f'href="{naruto.get_absolute_url()}"' in text
    assert 'name="provider_id" value="20"' not in text
    assert 'name="provider_id" value="53240"' in text


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503, json={"status": 503}),
        httpx.Response(500, text="oops"),
        httpx.Response(200, text="{not json"),
        httpx.ConnectError("unreachable"),
        httpx.ReadTimeout("slow"),
    ],
    ids=["503", "500", "malformed", "unreachable", "timeout"],
)
def test_an_unreachable_provider_is_one_sentence_not_an_error(
    client, db, network, failure, fake_time, settings
):
    network.get(url__startswith=f"{JIKAN}/anime?").mock(side_effect=[failure] * 10)
    Anime.objects.create(title="Naruto Local", year=2002)
    page = client.get("/search/anime/online/", {"q": "naruto"})
    assert page.status_code == 200
    assert "MyAnimeList is not reachable right now" in page.text
    assert fake_time.elapsed <= settings.PROVIDER_PAGE_BUDGET  # gave up within the page's time
    search_page = client.get("/search/", {"q": "naruto"})
    assert search_page.status_code == 200
    assert "Naruto Local" in search_page.text


def test_movies_without_a_tmdb_key_say_so_and_ask_nothing(client, db, network):
    page = client.get("/search/movie/online/", {"q": "dune"})
    assert page.status_code == 200
    assert "Movie search needs a TMDB key" in page.text
    assert not network.calls


def test_movies_with_a_key_come_from_tmdb(client, db, network, settings):
    settings.TMDB_API_KEY = "0123456789abcdef0123456789abcdef"
    route = network.get(url__startswith=f"{TMDB}/search/movie").respond(
        200, json=recorded("tmdb_search_movie.json")
    )
    page = client.get("/search/movie/online/", {"q": "RRRrrrr"})
    assert route.call_count == 1
    assert "RRRrrrr!!!" in page.text and "2004" in page.text
    assert "From TMDB" in page.text


# Add and Save.


def add(client, intent="add", provider_id=20, **data):
    return client.post("/add/anime/", {"provider_id": provider_id, "intent": intent, **data})


def test_add_creates_the_title_once_and_redirects_to_its_page(auth_client, network):
    routes = route_jikan(network, detail=naruto_detail())
    answer = add(auth_client)
    naruto = Anime.objects.get(mal_id=20)
    assert answer.status_code == 303
    assert answer["Location"] == naruto.get_absolute_url()
    assert (naruto.title, naruto.year, naruto.episodes) == ("Naruto", 2002, 220)
    assert naruto.poster_url.startswith("https://cdn.myanimelist.net/images/anime/13/17405")
    assert naruto.release_status == "finished"
    assert naruto.refreshed is not None
    again = add(auth_client)
    assert again.status_code == 303 and again["Location"] == naruto.get_absolute_url()
    assert Anime.objects.filter(mal_id=20).count() == 1
    assert routes["detail"].call_count == 1  # the second add read the cached answer
    page = auth_client.get(naruto.get_absolute_url())
    assert "Naruto" in page.text and "220 episodes" in page.text


def test_save_adds_and_saves_in_one_press_then_goes_back(auth_client, user, network):
    route_jikan(network, detail=naruto_detail())
    answer = add(auth_client, "save", next="/search/?q=naruto")
    assert answer.status_code == 303
    assert answer["Location"] == "/search/?q=naruto"
    naruto = Anime.objects.get(mal_id=20)
    assert user.saved_anime.filter(anime=naruto).count() == 1
    add(auth_client, "save", next="/search/?q=naruto")
    assert user.saved_anime.filter(anime=naruto).count() == 1


def test_htmx_save_swaps_the_result_for_the_catalog_title_with_unsave(auth_client, network):
    route_jikan(network, detail=naruto_detail())
    answer = auth_client.post(
        "/add/anime/", {"provider_id": 20, "intent": "save", "next": "/search/?q=n"}, **HTMX
    )
    naruto = Anime.objects.get(mal_id=20)
    assert answer.status_code == 200
    assert 'id="online-anime-20"' in answer.text
    assert 'data-announce="Added and saved “Naruto”."' in answer.text
    assert f'href="{naruto.get_absolute_url()}"' in answer.text
    assert 'value="unsave"' in answer.text


def test_a_local_namesake_takes_the_provider_id_instead_of_a_twin(auth_client, network):
    route_jikan(network, detail=naruto_detail())
    local = Anime.objects.create(title="Naruto", year=2002, synopsis="Ours.")
    add(auth_client)
    local.refresh_from_db()
    assert local.mal_id == 20
    assert Anime.objects.count() == 1


def test_signed_out_add_asks_to_sign_in_and_adds_nothing(client, db, network):
    answer = client.post(
        "/add/anime/", {"provider_id": 20, "intent": "save", "next": "/search/?q=naruto"}
    )
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/?next=/search/")
    assert not Anime.objects.exists()
    assert not network.calls
    htmx = client.post("/add/anime/", {"provider_id": 20, "intent": "save"}, **HTMX)
    assert htmx["HX-Redirect"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "data",
    [{}, {"provider_id": "x", "intent": "add"}, {"provider_id": 20, "intent": "steal"}],
    ids=["empty", "junk-id", "junk-intent"],
)
def test_a_bad_add_form_is_a_400(auth_client, data):
    answer = auth_client.post("/add/anime/", data)
    assert answer.status_code == 400
    assert not Anime.objects.exists()


def test_adding_an_unknown_id_is_a_404(auth_client, network):
    network.get(url__startswith=f"{JIKAN}/anime/20").respond(
        404, json=recorded("jikan_error_404.json")
    )
    answer = add(auth_client)
    assert answer.status_code == 404
    assert "MyAnimeList has no anime with the id 20" in answer.text
    assert not Anime.objects.exists()


def test_adding_while_the_provider_is_down_is_a_503_and_adds_nothing(
    auth_client, network, fake_time, settings
):
    network.get(url__startswith=f"{JIKAN}/anime/20").mock(
        side_effect=[httpx.ConnectError("down")] * 10
    )
    answer = add(auth_client)
    assert answer.status_code == 503
    assert fake_time.elapsed <= settings.PROVIDER_PAGE_BUDGET
    assert "MyAnimeList is not reachable right now" in answer.text
    assert not Anime.objects.exists()


def test_add_is_a_post(auth_client):
    assert auth_client.get("/add/anime/").status_code == 405


def test_the_tmdb_key_never_reaches_the_logs(client, db, network, settings, caplog):
    key = "0123456789abcdef0123456789abcdef"
    settings.TMDB_API_KEY = key
    network.get(url__startswith=f"{TMDB}/search/movie").respond(
        200, json=recorded("tmdb_search_movie.json")
    )
    with caplog.at_level("DEBUG"):
        client.get("/search/movie/online/", {"q": "RRRrrrr"})
    assert network.calls and key in str(network.calls.last.request.url)
    assert key not in caplog.text


def test_search_shows_what_the_person_saved_and_how_far_along(auth_client, user, network):
    route_jikan(network, search=naruto_search())
    naruto = Anime.objects.create(title="Naruto", year=2002, episodes=220, mal_id=20)
    user.saved_anime.create(anime=naruto, episode_progress=12, status="in_progress")
    local = auth_client.get("/search/", {"q": "naruto"}).text
    assert "Saved · 12 / 220 episodes" in local
    online = auth_client.get("/search/anime/online/", {"q": "naruto"}).text
    assert "Saved · 12 / 220 episodes" in online


def test_provider_results_cost_a_fixed_number_of_queries(
    auth_client, user, network, django_assert_max_num_queries
):
    route_jikan(network, search=naruto_search())
    for mal_id, title in ((20, "Naruto"), (53240, "Naruto: Road of Naruto")):
        anime = Anime.objects.create(title=title, year=2002, mal_id=mal_id)
        user.saved_anime.create(anime=anime)
    auth_client.get("/search/anime/online/", {"q": "naruto"})  # the provider's answer cached
    with django_assert_max_num_queries(6):
        page = auth_client.get("/search/anime/online/", {"q": "naruto"})
    assert page.text.count("Saved ·") == 2


def test_an_item_page_links_to_its_provider_page_and_names_its_other_titles(client, db):
    aot = Anime.objects.create(
        title="Attack on Titan", year=2013, mal_id=16498, alt_titles=["Shingeki no Kyojin"]
    )
    page = client.get(aot.get_absolute_url()).text
    assert 'href="https://myanimelist.net/anime/16498"' in page
    assert "Shingeki no Kyojin" in page
    local = Anime.objects.create(title="Ours", year=2020)
    assert "myanimelist.net" not in client.get(local.get_absolute_url()).text


def test_tmdb_results_carry_the_attribution_its_terms_ask_for(client, db, network, settings):
    settings.TMDB_API_KEY = "0123456789abcdef0123456789abcdef"
    network.get(url__startswith=f"{TMDB}/search/movie").respond(
        200, json=recorded("tmdb_search_movie.json")
    )
    page = client.get("/search/movie/online/", {"q": "RRRrrrr"}).text
    assert "This product uses the TMDB API but is not endorsed or certified by TMDB." in page


def test_an_admins_alternative_titles_must_be_a_list_of_names(db):
    from django.core.exceptions import ValidationError

    anime = Anime(title="Ours", year=2020, alt_titles={"a": 1})
    with pytest.raises(ValidationError, match="list of names"):
        anime.full_clean()
    anime.alt_titles = [1, "Notre"]
    with pytest.raises(ValidationError):
        anime.full_clean()
    anime.save()  # a bulk path never reaches full_clean: the names that are text still count
    assert anime.search_text == "ours | notre"


def test_a_movie_found_by_its_imdb_id_takes_the_tmdb_id(auth_client, network, settings):
    settings.TMDB_API_KEY = "0123456789abcdef0123456789abcdef"
    fight_club = recorded("tmdb_movie_details.json")
    network.get(url__startswith=f"{TMDB}/movie/550").respond(200, json=fight_club)
    local = Movie.objects.create(title="Fight Club (ours)", year=1999, imdb_id="tt0137523")
    answer = auth_client.post("/add/movie/", {"provider_id": 550, "intent": "add"})
    local.refresh_from_db()
    assert answer["Location"] == local.get_absolute_url()
    assert local.tmdb_id == 550 and Movie.objects.count() == 1


def test_home_shows_the_newest_titles_with_a_known_year(client, db):
    Anime.objects.create(title="Someday", year=None)
    Anime.objects.create(title="Known", year=2020)
    page = client.get("/").text
    assert "Known" in page and "Someday" not in page
