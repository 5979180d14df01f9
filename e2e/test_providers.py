"""Find a title the catalog lacks, Add it, Save another, in a real browser with JavaScript on
and off, against the providers' stand-in (e2e/standin.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Visitor, wait_until
from e2e.test_tracking import sign_in
from media.models import Anime

JS_MODES = [pytest.param(True, id="js-on"), pytest.param(False, id="js-off")]


def search_from_header(page: Page, text: str) -> None:
    box = page.get_by_role("search").first.get_by_role("searchbox")
    box.fill(text)
    box.press("Enter")


def anime_results(page: Page):
    return page.locator("#online-anime")


@pytest.mark.parametrize("js", JS_MODES)
def test_find_add_and_save_titles_the_catalog_lacks(js, visit, live_server, member, providers):
    visitor: Visitor = visit(js=js)
    page, base = visitor.page, live_server.url
    sign_in(page, base, member, "/")

    search_from_header(page, "naruto")
    expect(page).to_have_url(f"{base}/search/?q=naruto")
    expect(page.get_by_text("Nothing in Shelf’s catalog matches “naruto” yet")).to_be_visible()
    if js:
        # htmx loaded MyAnimeList's results into the page, which stayed where it was.
        expect(anime_results(page).get_by_role("heading", name="From MyAnimeList")).to_be_visible()
        online = [r for r in visitor.traffic.requests if "/search/anime/online/" in r.url]
        assert online and all(r.headers.get("hx-request") == "true" for r in online)
        expect(page).to_have_url(f"{base}/search/?q=naruto")
        results = anime_results(page)
    else:
        page.get_by_role("link", name="Search MyAnimeList for “naruto” in anime").click()
        expect(page).to_have_url(f"{base}/search/anime/online/?q=naruto")
        results = page.locator("ul.results")
    search_url = page.url

    naruto = results.locator("li.result").filter(has_text="2002")
    expect(naruto).to_contain_text("220 episodes")
    poster = naruto.locator("img.poster")
    expect(poster).to_have_attribute("loading", "lazy")
    # A lazy image loads when the browser gets to it: wait for that, then see it drew.
    wait_until(page, "img => img.complete && img.naturalWidth > 0", poster.element_handle())

    # Add: the title joins the catalog and its page opens (Post/Redirect/Get).
    naruto.get_by_role("button", name="Add Naruto to the catalog").click()
    expect(page).to_have_url(f"{base}{Anime.objects.get(mal_id=20).get_absolute_url()}")
    expect(page.get_by_role("heading", name="Naruto", level=1)).to_be_visible()
    expect(page.get_by_text("220 episodes").first).to_be_visible()
    expect(page.get_by_text("Added “Naruto” to the catalog.")).to_be_visible()

    # Save another in one press, from the results.
    page.goto(search_url)
    road = page.locator("li.result").filter(has_text="Road of Naruto")
    visitor.traffic.clear()
    road.get_by_role("button", name="Save Naruto: Road of Naruto").click()
    expect(road.get_by_role("button", name="Unsave")).to_be_visible()
    added = Anime.objects.get(mal_id=53240)
    assert member.saved_anime.filter(anime=added).count() == 1
    posts = visitor.traffic.posts("/add/anime/")
    assert len(posts) == 1
    if js:
        assert posts[0].headers.get("hx-request") == "true"
        expect(page).to_have_url(search_url)
    expect(road.get_by_role("link", name="Naruto: Road of Naruto", exact=True)).to_be_visible()

    # Both are titles of the catalog now, one of them on the shelf.
    assert Anime.objects.filter(mal_id__in=[20, 53240]).count() == 2
    page.goto(f"{base}/saved/")
    expect(page.get_by_role("link", name="Naruto: Road of Naruto", exact=True)).to_be_visible()
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_a_provider_that_is_down_leaves_the_catalog_results(
    js, visit, live_server, member, providers
):
    providers.down = True
    Anime.objects.create(title="Naruto Shippuden", year=2007, episodes=500)
    visitor = visit(js=js)
    page, base = visitor.page, live_server.url
    page.goto(f"{base}/search/?q=naruto")
    expect(page.get_by_role("link", name="Naruto Shippuden")).to_be_visible()
    if not js:
        page.get_by_role("link", name="Search MyAnimeList for “naruto” in anime").click()
    expect(page.get_by_text("MyAnimeList is not reachable right now").first).to_be_visible()
    assert not visitor.traffic.problems, visitor.traffic.problems
