"""Posters, compact dashboard entries, the home page's Continue and the dashboard's sort, in a
real Chromium: boxes that never move, entries small enough for a phone, a sort that applies
on change with JavaScript (and with its button without), a poster kept for offline use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.a11y import horizontal_overflow
from e2e.conftest import DESKTOP, PHONE, Visitor, wait_until
from e2e.test_journey import JS_MODES, assert_same_document, mark_document
from e2e.test_offline import go, wait_for_worker
from e2e.test_tracking import sign_in
from media.models import Anime, Manga, Movie, SavedAnime, SavedManga, SavedMovie, Status

SHOTS = Path("/tmp/shelf-posters")
# A poster served by the live server itself (not precached under this URL), so no test
# request leaves the machine.
POSTER_PATH = "/static/icons/shelf-192.png?poster="


def shelf_of(member, base: str) -> dict:
    """Nine saves across kinds, some with a poster, a few in progress; saved a day apart."""
    movies = [
        Movie.objects.create(title=t, year=y, runtime_minutes=r, poster_url=p)
        for t, y, r, p in (
            ("Spirited Away", 2001, 125, f"{base}{POSTER_PATH}spirited"),
            ("Paprika", 2006, 90, ""),
            ("Casablanca", None, 102, ""),
        )
    ]
    anime = [
        Anime.objects.create(title=t, year=y, episodes=e, poster_url=p)
        for t, y, e, p in (
            ("Cowboy Bebop", 1998, 26, f"{base}{POSTER_PATH}bebop"),
            ("Mushishi", 2005, 26, ""),
            ("Frieren: Beyond Journey's End", 2023, None, ""),
        )
    ]
    manga = [
        Manga.objects.create(title=t, year=y, chapters=c, volumes=v)
        for t, y, c, v in (
            ("Akira", 1982, 120, 6),
            ("Monster", 1994, 162, 18),
            ("Berserk", 1989, None, None),
        )
    ]
    rows = [
        SavedMovie.objects.create(
            user=member, movie=movies[0], watched=True, status=Status.COMPLETED, score=10
        ),
        SavedMovie.objects.create(user=member, movie=movies[1]),
        SavedMovie.objects.create(user=member, movie=movies[2]),
        SavedAnime.objects.create(
            user=member, anime=anime[0], episode_progress=12, status=Status.IN_PROGRESS, score=8
        ),
        SavedAnime.objects.create(
            user=member, anime=anime[1], episode_progress=3, status=Status.IN_PROGRESS
        ),
        SavedAnime.objects.create(
            user=member, anime=anime[2], episode_progress=7, status=Status.IN_PROGRESS
        ),
        SavedManga.objects.create(
            user=member,
            manga=manga[0],
            chapter_progress=40,
            volume_progress=2,
            status=Status.IN_PROGRESS,
            score=9,
        ),
        SavedManga.objects.create(user=member, manga=manga[1]),
        SavedManga.objects.create(
            user=member, manga=manga[2], chapter_progress=300, status=Status.IN_PROGRESS
        ),
    ]
    start = datetime(2025, 11, 1, 12, tzinfo=UTC)
    for n, row in enumerate(rows):
        when = start + timedelta(days=n)
        type(row).objects.filter(pk=row.pk).update(created=when, updated=when)
    return {"movies": movies, "anime": anime, "manga": manga}


def entry_boxes(page: Page) -> list[dict]:
    return page.locator("li.entry").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {top: r.top + scrollY, height: r.height}; })"
    )


def test_dashboard_entries_are_compact_on_a_phone_and_a_desktop(visit, live_server, member):
    base = live_server.url
    shelf_of(member, base)
    visitor: Visitor = visit(js=True, viewport=PHONE)
    page = visitor.page
    sign_in(page, base, member, "/saved/")
    visitor.traffic.settle(page)
    figures = {}
    for name, viewport, limit in (("phone", PHONE, 120), ("desktop", DESKTOP, 100)):
        page.set_viewport_size(viewport)
        boxes = entry_boxes(page)
        assert len(boxes) == 9
        heights = [round(box["height"], 1) for box in boxes]
        assert max(heights) <= limit, (name, heights)
        pitch = (boxes[-1]["top"] - boxes[0]["top"]) / (len(boxes) - 1)  # height and gap
        first_screen = sum(box["top"] + box["height"] <= viewport["height"] for box in boxes)
        figures[name] = {
            "viewport": viewport,
            "heights": heights,
            "max": max(heights),
            "entries per 844 px of list": round(844 / pitch, 2),
            "whole entries in the first screen": first_screen,
            "list starts at": round(boxes[0]["top"]),
        }
        assert horizontal_overflow(page) <= 0, name
        if name == "phone":
            assert 844 / pitch >= 6 or first_screen >= 5, figures
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "entry-heights.json").write_text(json.dumps(figures, indent=2))
    assert not visitor.traffic.problems, visitor.traffic.problems


def test_posters_keep_their_box_and_placeholders_ask_for_nothing(visit, live_server, member):
    base = live_server.url
    made = shelf_of(member, base)
    visitor = visit(js=True)
    page, traffic = visitor.page, visitor.traffic
    sign_in(page, base, member, "/saved/")
    for path in ("/", "/movies/", "/saved/", made["movies"][0].get_absolute_url()):
        traffic.clear()
        page.goto(base + path)
        traffic.settle(page)
        images = [r.url for r in traffic.requests if r.resource_type == "image"]
        # Only titles with a poster ask for one; the icons are the page's own.
        assert {url for url in images if "poster=" in url} <= {
            f"{base}{POSTER_PATH}spirited",
            f"{base}{POSTER_PATH}bebop",
        }, (path, images)
        for img in page.locator("img.poster").all():
            for name, value in (("loading", "lazy"), ("decoding", "async"), ("alt", "")):
                expect(img).to_have_attribute(name, value)
            expect(img).to_have_attribute("referrerpolicy", "no-referrer")
            width, height = int(img.get_attribute("width")), int(img.get_attribute("height"))
            assert width * 3 == height * 2
            box = img.bounding_box()
            assert abs(box["width"] * 3 - box["height"] * 2) < 1.5, box
        for placeholder in page.locator(".poster-none").all():
            expect(placeholder).to_have_attribute("aria-hidden", "true")
            box = placeholder.bounding_box()
            assert abs(box["width"] * 3 - box["height"] * 2) < 1.5, box
    # The box is there before the image: the same size whether it loaded or not.
    page.route("**/static/icons/shelf-192.png*", lambda route: None)  # never answered
    page.goto(base + made["movies"][0].get_absolute_url(), wait_until="domcontentloaded")
    waiting = page.locator("img.poster").bounding_box()
    page.unroute("**/static/icons/shelf-192.png*")
    page.reload()
    wait_until(page, "img => img.complete", page.locator("img.poster").element_handle())
    assert page.locator("img.poster").evaluate("img => img.naturalWidth") == 192
    assert page.locator("img.poster").bounding_box() == waiting
    # Year unknown: no "None" anywhere.
    page.goto(base + made["movies"][2].get_absolute_url())
    expect(page.locator("main")).not_to_contain_text("None")
    traffic.problems = [p for p in traffic.problems if "shelf-192.png" not in p]
    assert not traffic.problems, traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_sort_applies_on_change_with_javascript_and_by_its_button_without(
    js, visit, live_server, member
):
    base = live_server.url
    shelf_of(member, base)
    visitor = visit(js=js)
    page = visitor.page
    sign_in(page, base, member, "/saved/")
    titles = page.locator("li.entry .entry-title")
    expect(titles.first).to_have_text("Berserk")  # recently saved first
    sort = page.get_by_label("Sort by")
    button = page.get_by_role("button", name="Sort", exact=True)
    expect(button).to_be_visible()
    if js:
        mark_document(page)
        sort.focus()  # as a click or Tab leaves it
        with page.expect_response(lambda r: r.url.startswith(base + "/saved/?")) as answer:
            sort.select_option("title")
        assert answer.value.request.all_headers().get("hx-request") == "true"
        visitor.traffic.settle(page)
        expect(titles.first).to_have_text("Akira")
        assert_same_document(page, f"{base}/saved/?sort=title")
        expect(sort).to_be_focused()  # the select was replaced, the focus kept
        # The filters follow the new sort.
        kinds = page.get_by_role("navigation", name="Filter by kind")
        expect(kinds.get_by_role("link", name="Anime", exact=True)).to_have_attribute(
            "href", "?sort=title&kind=anime"
        )
        page.go_back()
        expect(page).to_have_url(f"{base}/saved/")
        expect(titles.first).to_have_text("Berserk")
        expect(page.get_by_label("Sort by")).to_have_value("saved")
    else:
        sort.select_option("title")
        page.wait_for_timeout(300)
        expect(page).to_have_url(f"{base}/saved/")  # nothing happens on change alone
        expect(titles.first).to_have_text("Berserk")
        button.focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/saved/?sort=title")
        expect(titles.first).to_have_text("Akira")
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_continue_on_the_home_page(js, visit, live_server, member):
    base = live_server.url
    made = shelf_of(member, base)
    bebop = made["anime"][0]
    visitor = visit(js=js)
    page = visitor.page
    sign_in(page, base, member, "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Continue")
    cards = page.locator(".continue-card .continue-title")
    # In progress, most recently updated first.
    expect(cards).to_have_text(
        ["Berserk", "Akira", "Frieren: Beyond Journey's End", "Mushishi", "Cowboy Bebop"]
    )
    card = page.locator(".continue-card").filter(has_text="Cowboy Bebop")
    if js:
        mark_document(page)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        card.get_by_role("button", name="+1 episode").click()
    if js:
        assert answer.value.request.all_headers().get("hx-request") == "true"
        visitor.traffic.settle(page)
        assert_same_document(page, base + "/")
    else:
        assert answer.value.status == 303
        expect(page).to_have_url(base + "/")
    card = page.locator(".continue-card").filter(has_text="Cowboy Bebop")
    expect(card.locator(".progress-text")).to_have_text("13 / 26 episodes")
    assert SavedAnime.objects.get(anime=bebop).episode_progress == 13
    # The shelves below say what is saved, and how far along.
    expect(page.locator(".card").filter(has_text="Monster").locator(".card-saved")).to_contain_text(
        "Saved · 0 / 162 chapters"
    )
    assert not visitor.traffic.problems, visitor.traffic.problems


POSTER_KEPT = """async () => {
  const name = (await caches.keys()).find((n) => n.startsWith("shelf-posters-"));
  return Boolean(name) && (await (await caches.open(name)).keys()).length > 0;
}"""


def test_a_saved_titles_poster_shows_offline(visit, live_server, member):
    base = live_server.url
    made = shelf_of(member, base)
    spirited = made["movies"][0]
    visitor = visit(js=True)
    page = visitor.page
    # The worker installed and in control first, so that signing in happens under it.
    page.goto(base + "/")
    wait_for_worker(page)
    sign_in(page, base, member, spirited.get_absolute_url())
    go(page, base + spirited.get_absolute_url())
    poster = page.locator("img.poster")
    wait_until(page, "img => img.complete && img.naturalWidth > 0", poster.element_handle())
    # The service worker stores the poster after answering with it: wait until it has.
    wait_until(page, POSTER_KEPT)
    names = page.evaluate("caches.keys()")
    kept = [name for name in names if name.startswith("shelf-posters-")]
    assert len(kept) == 1, names
    urls = page.evaluate(
        f"caches.open('{kept[0]}').then(c => c.keys()).then(k => k.map(r => r.url))"
    )
    assert urls == [base + POSTER_PATH + "spirited"]

    page.context.set_offline(True)
    go(page, base + spirited.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(spirited.title)
    wait_until(page, "img => img.complete", page.locator("img.poster").element_handle())
    assert page.locator("img.poster").evaluate("img => img.naturalWidth") == 192
    page.context.set_offline(False)

    # Signing out forgets the posters with the pages.
    page.goto(base + "/saved/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert not [n for n in page.evaluate("caches.keys()") if n.startswith("shelf-posters-")]


def test_screenshots(visit, live_server, member):
    """Pictures to look at: the pages with posters, at 390 and 1280 px, light and dark."""
    base = live_server.url
    made = shelf_of(member, base)
    visitor = visit(js=True)
    page = visitor.page
    sign_in(page, base, member, "/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "home": "/",
        "anime": "/anime/",
        "item-poster": made["anime"][0].get_absolute_url(),
        "item-placeholder": made["manga"][0].get_absolute_url(),
        "dashboard": "/saved/",
    }
    for name, path in pages.items():
        page.goto(base + path)
        visitor.traffic.settle(page)
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            assert horizontal_overflow(page) <= 0, (name, viewport)
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                page.screenshot(
                    path=SHOTS / f"{name}-{viewport['width']}-{scheme}.png",
                    full_page=True,
                    animations="disabled",
                )
    assert not visitor.traffic.problems, visitor.traffic.problems
