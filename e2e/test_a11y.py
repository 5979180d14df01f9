"""Accessibility in a real browser, with JavaScript on and off.

axe-core checks every page in the light and the dark theme; each page must also fit a
320 px wide screen without sideways scrolling, and motion must stop when the system asks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Locator, Page, expect

from e2e.a11y import NARROW, AxeLog, horizontal_overflow, show_in_twin
from e2e.conftest import DESKTOP, Entry, Visitor
from e2e.test_journey import JS_MODES, dashboard_entry, save_button, screenshot_path
from e2e.test_tracking import sign_in, tracking
from media import importing
from media.models import (
    Anime,
    Manga,
    Movie,
    SavedAnime,
    SavedManga,
    SavedMovie,
    SavedShow,
    Show,
    Status,
)
from tests.test_importing import anime_entry, mal_file

SCHEMES = ("light", "dark")


class PageChecks:
    """Checks each page a test shows it: axe in both themes, and reflow at 320 px."""

    def __init__(self, visitor: Visitor, base_url: str, new_context) -> None:
        self.visitor = visitor
        # Without JavaScript axe cannot run in the page itself: see show_in_twin.
        self.twin = None if visitor.js else new_context(viewport=DESKTOP).new_page()
        self.page = visitor.page
        self.base_url = base_url
        self.mode = "js-on" if visitor.js else "js-off"
        self.axe = AxeLog()
        self.overflows: list[str] = []
        self.labels: list[str] = []

    def check(self, label: str) -> None:
        page = self.page
        self.visitor.traffic.settle(page)
        self.labels.append(label)
        if self.twin:
            show_in_twin(page, self.twin)
        for scheme in SCHEMES:
            checked = self.twin or page
            checked.emulate_media(color_scheme=scheme)
            self.axe.check(checked, f"{label} [{scheme}, {self.mode}]")
            checked.emulate_media(color_scheme="light")
        page.set_viewport_size(NARROW)
        overflow = horizontal_overflow(page)
        if overflow > 0:
            self.overflows.append(f"{label} ({page.url}) is {overflow}px wider than 320px")
        page.set_viewport_size(DESKTOP)

    def open(self, path: str, label: str, status: int = 200) -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status == status, (path, response)
        self.check(label)

    def assert_clean(self) -> None:
        problems = self.overflows + self.axe.failures
        assert not problems, (
            f"{len(self.axe.failures)} of {self.axe.runs} axe checks found violations, "
            f"{len(self.overflows)} of {len(self.labels)} pages do not fit 320px:\n"
            + "\n".join(problems)
        )


def enter_too_many(
    page: Page, entry: Entry, field_label: str, value: str, *, dashboard: bool = False
) -> Locator:
    """Open a tracking panel's form, type a value past the item's total; return the panel.

    A dashboard entry loads its form when asked: in place with JavaScript, else on the item
    page, which is where the panel is then.
    """
    if dashboard:
        tracking(dashboard_entry(page, entry), entry).locator(".track-edit a").click()
    else:
        tracking(page, entry).get_by_text("Edit tracking", exact=True).click()
    panel = tracking(page, entry)
    panel.get_by_label(field_label).fill(value)
    return panel


def press_update(visitor: Visitor, panel: Locator, entry: Entry, base_url: str) -> None:
    """Submit a tracking form whose input is invalid: a 422, swapped in or a whole page."""
    page = visitor.page
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == base_url + entry.track_path
    ) as answer:
        panel.get_by_role("button", name="Update", exact=True).click()
    assert answer.value.status == 422
    if not visitor.js:
        expect(page).to_have_url(base_url + entry.track_path)
    expect(page.get_by_role("alert")).to_contain_text("Nothing was changed")


@pytest.mark.parametrize("js", JS_MODES)
def test_every_page_passes_axe_and_reflows(
    js, visit, new_context, live_server, catalog, member, providers
):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    checks = PageChecks(visitor, base, new_context)
    movie, paprika, anime, manga = (catalog[k] for k in ("spirited", "paprika", "bebop", "akira"))

    # Signed out.
    checks.open("/", "home")
    for kind in ("movies", "anime", "manga"):
        checks.open(f"/{kind}/", f"{kind} list")
    checks.open("/movies/?q=spirited", "search results")
    checks.open("/anime/?q=nothing-like-this", "search without results")
    checks.open("/movies/?q=" + "x" * 201, "search refused", status=400)
    checks.open("/search/", "search, nothing typed")
    checks.open("/search/?q=naruto", "search, every kind, with the providers' results")
    checks.open("/search/anime/online/?q=naruto", "a provider's results as a page")
    providers.down = True
    checks.open("/search/manga/online/?q=jujutsu", "a provider that is down")
    providers.down = False
    checks.open(movie.path, "item, signed out")
    checks.open("/accounts/login/", "sign in")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert").or_(page.locator(".field-error")).first).to_be_visible()
    checks.check("sign in with errors")
    checks.open("/accounts/signup/", "sign up")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password confirmation").fill("different")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".field-error").first).to_be_visible()
    checks.check("sign up with errors")
    checks.open("/accounts/password/reset/", "password reset")
    page.get_by_label("E-mail").fill("someone@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    checks.check("password reset sent")
    checks.open("/no-such-page/", "404", status=404)
    checks.open("/offline/", "offline page, signed out")

    # Signed in, nothing saved yet.
    sign_in(page, base, member, "/saved/")
    checks.check("dashboard without saves")
    checks.open("/saved/?kind=manga", "dashboard without saves of a kind")
    checks.open(paprika.path, "item, signed in, not saved")
    save_button(page).click()
    expect(page.get_by_role("button", name="Unsave", exact=True)).to_be_visible()
    if js:
        expect(page.locator("#announcer")).to_have_text(f"Saved “{paprika.title}”.")
    checks.check("item just saved (announcement shown)")
    checks.open(paprika.path, "item, signed in, saved (movie)")

    SavedAnime.objects.create(
        user=member, anime=anime.item, episode_progress=3, status=Status.IN_PROGRESS, score=7
    )
    SavedManga.objects.create(user=member, manga=manga.item, chapter_progress=4)
    checks.open(anime.path, "item, signed in, saved (anime with progress)")
    press_update(visitor, enter_too_many(page, anime, "Episodes watched", "27"), anime, base)
    checks.check("tracking errors, " + ("htmx 422 swap" if js else "422 page"))
    if js:
        # The same refusal as a plain post (form.submit() skips htmx): the whole 422 page.
        page.goto(base + anime.path)
        enter_too_many(page, anime, "Episodes watched", "27")
        with page.expect_response(lambda r: r.url == base + anime.track_path) as answer:
            tracking(page, anime).locator("form.full").evaluate("form => form.submit()")
        assert answer.value.status == 422
        expect(page.get_by_role("alert")).to_contain_text("Nothing was changed")
        checks.check("tracking errors, 422 page")

    checks.open("/saved/", "dashboard with saves")
    checks.open("/saved/?kind=anime", "dashboard filtered by kind")
    checks.open("/saved/?status=in_progress&sort=title", "dashboard filtered by status")
    checks.open("/saved/?status=dropped", "dashboard, nothing with that status")
    checks.open("/export/", "export page")
    checks.open("/accounts/", "account page")
    checks.open("/accounts/password/", "change password")
    page.get_by_role("button", name="Change the password").click()
    expect(page.locator(".field-error").first).to_be_visible()
    checks.check("change password with errors")
    checks.open("/accounts/delete/", "delete account")
    page.goto(base + "/saved/")
    panel = enter_too_many(page, manga, "Chapters read", "121", dashboard=True)
    press_update(visitor, panel, manga, base)
    checks.check("dashboard tracking errors" if js else "tracking errors from the dashboard")
    checks.open("/offline/", "offline page, signed in")

    # Import: the form, a refused file, a preview with every section, a row to find, a result.
    checks.open("/import/", "import")
    choose_file(page, "list.csv", b"a,b\n1,2\n")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".field-error")).to_be_visible()
    checks.check("import refused (422)")
    Anime.objects.filter(pk=anime.item.pk).update(mal_id=1)
    Manga.objects.filter(pk=manga.item.pk).update(mal_id=2)
    providers.down = True
    entries = [
        anime_entry(1, anime.title, watched=5, score=9, status="Watching"),
        anime_entry(1, anime.title, watched=5),
        anime_entry(777, "Not In Any Catalog", watched=1),
    ]
    choose_file(page, "animelist.xml", mal_file(*entries))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="What this import would do")).to_be_visible()
    checks.check("import preview: updated with a conflict, unmatched, skipped")
    page.get_by_role("link", name="Find the title").click()
    expect(page.get_by_role("heading", name="In this Shelf")).to_be_visible()
    checks.check("import, finding an unmatched row's title")
    providers.down = False
    page.go_back()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    checks.check("import done")

    checks.assert_clean()


def choose_file(page: Page, name: str, data: bytes) -> None:
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}]
    )


MOTION = """
() => {
  const seconds = (list) =>
    Math.max(...list.split(",").map((t) => parseFloat(t) / (t.trim().endsWith("ms") ? 1000 : 1)));
  const moving = [];
  for (const element of document.querySelectorAll("*")) {
    for (const pseudo of [null, "::before", "::after"]) {
      const style = getComputedStyle(element, pseudo);
      const longest = Math.max(seconds(style.transitionDuration), seconds(style.animationDuration));
      if (longest > 0.01) moving.push(`${element.tagName} ${element.className}${pseudo || ""}`);
    }
  }
  const scroll = getComputedStyle(document.documentElement).scrollBehavior;
  return {moving, smoothScroll: scroll === "smooth"};
}
"""


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_motion_stops_when_the_system_asks(motion, new_context, live_server, catalog, member):
    base = live_server.url
    page = new_context(viewport=DESKTOP, reduced_motion=motion).new_page()
    movie, anime = catalog["spirited"], catalog["bebop"]
    SavedMovie.objects.create(user=member, movie=movie.item)
    SavedAnime.objects.create(user=member, anime=anime.item, episode_progress=3)
    sign_in(page, base, member, movie.path)
    found = {}
    for path in (movie.path, "/saved/", "/"):
        page.goto(base + path)
        found[path] = page.evaluate(MOTION)
    if motion == "reduce":
        assert all(not f["moving"] and not f["smoothScroll"] for f in found.values()), found
    else:  # the same measure finds the buttons' and the switch's transitions
        moving = found[movie.path]["moving"]
        assert any("switch-track" in m for m in moving), found
        assert any("button" in m for m in moving), found


def test_screenshots_phone_and_desktop_light_and_dark(visit, live_server, member, providers):
    """The README's pictures: home, an item, a TV show, the dashboard, a search, an import,
    the export and the account page, 320 and 1280 px wide, in both themes, taken from the demo
    catalog with a few things saved and tracked."""
    base = live_server.url
    call_command("load_demo_catalog", stdout=StringIO())
    bebop = Anime.objects.get(title="Cowboy Bebop")
    rows = [
        SavedMovie.objects.create(user=member, movie=Movie.objects.get(title="Casablanca")),
        SavedManga.objects.create(
            user=member,
            manga=Manga.objects.get(title="Monster"),
            chapter_progress=40,
            volume_progress=5,
            status=Status.IN_PROGRESS,
            score=9,
        ),
        SavedMovie.objects.create(
            user=member,
            movie=Movie.objects.get(title="Spirited Away"),
            watched=True,
            watched_on=date(2025, 1, 17),
            status=Status.COMPLETED,
            score=10,
        ),
        SavedAnime.objects.create(
            user=member, anime=bebop, episode_progress=12, status=Status.IN_PROGRESS, score=8
        ),
        SavedShow.objects.create(
            user=member,
            show=Show.objects.get(title="Breaking Bad"),
            season_progress=2,
            episode_progress=5,
            status=Status.IN_PROGRESS,
        ),
    ]
    # Fixed dates in the past ("saved 20 Nov 2025"), so the pictures stay the same every day.
    days = [13, 17, 19, 20, 21]
    for row, day in zip(rows, days, strict=True):
        saved_at = datetime(2025, 11, day, 12, tzinfo=UTC)
        type(row).objects.filter(pk=row.pk).update(created=saved_at)
    # An import waiting for its Import press: new titles, a conflict, one unmatched, a duplicate.
    others = Anime.objects.exclude(pk=bebop.pk).filter(mal_id__isnull=False).order_by("title")[:3]
    entries = [
        anime_entry(bebop.mal_id, bebop.title, watched=26, status="Completed", score=9),
        *(anime_entry(a.mal_id, a.title, watched=2, score=7) for a in others),
        anime_entry(others[0].mal_id, others[0].title, watched=2),
        anime_entry(99_999_999, "A Title Nobody Has", watched=1),
    ]
    imp = importing.start_import(member, "animelist_1733300000_-_123.xml", mal_file(*entries))
    type(imp).objects.filter(pk=imp.pk).update(created=datetime(2025, 11, 21, 9, tzinfo=UTC))
    visitor = visit(js=True)
    page = visitor.page
    sign_in(page, base, member, "/saved/")
    shots = {
        "home": "/",
        "item": bebop.get_absolute_url(),
        "show": rows[-1].show.get_absolute_url(),
        "dashboard": "/saved/",
        "search": "/search/?q=naruto",  # MyAnimeList's results from the providers' stand-in
        "import": f"/import/{imp.pk}/",
        "export": "/export/",
        "account": "/accounts/",
    }
    for name, path in shots.items():
        page.goto(base + path)
        visitor.traffic.settle(page)
        for viewport in (NARROW, DESKTOP):
            page.set_viewport_size(viewport)
            assert horizontal_overflow(page) <= 0, (name, viewport)
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)
                file = screenshot_path(f"{name}-{viewport['width']}-{scheme}.png")
                page.screenshot(path=file, animations="disabled")
                assert file.stat().st_size > 0
    assert not visitor.traffic.problems, visitor.traffic.problems
