"""Tracking what one has saved, in a real browser, with JavaScript on and off.

A saved item shows a tracking panel: a "Watched" switch for a movie, progress and a "+1"
button for anime and manga, and an "Edit tracking" form for all. With JavaScript each
form is an htmx request that swaps the panel in place (a 422 panel with the errors for
invalid input); without it the same forms post and redirect (303) back, or answer the
whole item page with the errors (422). Both must end in the same rows.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, Request, Response, expect

from e2e.conftest import DESKTOP, PASSWORD, Entry, Visitor
from e2e.test_journey import (
    JS_MODES,
    assert_same_document,
    check_phone_layout,
    dashboard_entry,
    mark_document,
    nav_link,
    press,
    reload_without_posting,
    save_button,
    screenshot_path,
)
from media.models import SavedAnime, SavedManga, SavedMovie, Status
from media.services import save_item

BEBOP_TOO_FAR = "Cowboy Bebop has 26 episodes: enter a number from 0 to 26."
NOTHING_CHANGED = "Nothing was changed: please correct the fields marked in the form."


def tracking(scope: Page | Locator, entry: Entry) -> Locator:
    return scope.locator(f"section.tracking#tracking-{entry.kind.key}-{entry.item.pk}")


def watched_switch(scope: Locator) -> Locator:
    return scope.get_by_role("switch", name="Watched", exact=True)


def plus_one(scope: Locator, unit: str) -> Locator:
    return scope.get_by_role("button", name=f"+1 {unit}", exact=True)


def sign_in(page: Page, base_url: str, user, next_path: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(base_url + next_path)


def is_track_post(base_url: str, entry: Entry):
    return lambda r: r.request.method == "POST" and r.url == base_url + entry.track_path


def submit(
    visitor: Visitor, button: Locator, entry: Entry, base_url: str, *, back_to: str
) -> Response:
    """Press a button of a tracking form whose input is valid (see `press`)."""
    return press(visitor, button, entry, base_url, back_to=back_to, path=entry.track_path)


def submit_invalid(visitor: Visitor, button: Locator, entry: Entry, base_url: str) -> None:
    """Press a tracking form's button with invalid input: the answer is a 422 either way.

    With JavaScript it is the panel, swapped in place; without, the whole item page. The
    browser logs the 422 as a console error: this failure, and only it, is excused.
    """
    page = visitor.page
    here = page.url
    if visitor.js:
        mark_document(page)
    with (
        page.expect_console_message(lambda m: m.type == "error", timeout=10_000) as logged,
        page.expect_response(is_track_post(base_url, entry)) as answer,
    ):
        button.click()
    response = answer.value
    assert response.status == 422
    headers = response.request.all_headers()
    if visitor.js:
        assert headers.get("hx-request") == "true"
        assert response.request.resource_type == "fetch"
        visitor.traffic.settle(page)
        assert_same_document(page, here)
    else:
        assert "hx-request" not in headers
        assert response.request.resource_type == "document"
        expect(page).to_have_url(base_url + entry.track_path)
        expect(page.get_by_role("heading", level=1)).to_have_text(entry.title)
    visitor.traffic.excuse(response, logged.value)


def announced(visitor: Visitor, title: str, now: str) -> None:
    """The person is told the edit went through: the live region says so and what the panel
    `now` shows; without JavaScript, the flash message (the panel beside it shows the rest)."""
    page = visitor.page
    if visitor.js:
        expect(page.locator("p#announcer")).to_have_text(f"Updated {title}: {now}")
    else:
        expect(page.get_by_role("status").filter(has_text="Updated")).to_have_text(
            f"Updated “{title}”."
        )


def save_shows_tracking(visitor: Visitor, entry: Entry, base_url: str) -> Locator:
    """Save from the item page: its tracking panel appears, loaded by htmx or on reload."""
    page = visitor.page
    expect(tracking(page, entry)).to_have_count(0)
    if visitor.js:
        with page.expect_response(
            lambda r: r.request.method == "GET" and r.url.startswith(base_url + entry.track_path)
        ) as loaded:
            press(visitor, save_button(page), entry, base_url, back_to=entry.path)
        assert loaded.value.request.all_headers().get("hx-request") == "true"
        assert loaded.value.status == 200
        visitor.traffic.settle(page)
        assert_same_document(page, base_url + entry.path)
    else:
        press(visitor, save_button(page), entry, base_url, back_to=entry.path)
    panel = tracking(page, entry)
    expect(panel).to_be_visible()
    expect(panel.locator(".status")).to_have_text("Planned")
    return panel


def posted(requests: list[Request], name: str) -> list[str]:
    """The values of `name` in each posted form."""
    return [parse_qs(request.post_data or "")[name][0] for request in requests]


@pytest.mark.parametrize("js", JS_MODES)
def test_watch_a_movie_and_count_episodes(js, visit, live_server, catalog, member):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    movie, anime, manga = catalog["spirited"], catalog["bebop"], catalog["akira"]
    save_item(member, manga.kind, manga.item.pk)
    sign_in(page, base, member, movie.path)

    # The movie: save it, then flip its "Watched" switch.
    panel = save_shows_tracking(visitor, movie, base)
    switch = watched_switch(panel)
    expect(switch).to_have_attribute("aria-checked", "false")
    submit(visitor, switch, movie, base, back_to=movie.path)
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(panel.locator(".status")).to_have_text("Completed")
    today = timezone.localdate()
    expect(panel.locator(".track-meta time")).to_have_attribute("datetime", today.isoformat())
    announced(visitor, movie.title, "watched, completed")
    if js:
        expect(switch).to_be_focused()
    row = movie.saved_rows(member).get()
    assert (row.watched, row.watched_on, row.status) == (True, today, Status.COMPLETED)

    # The anime: save it, then "+1" once, then a fast double click: one more, not two.
    page.goto(base + anime.path)
    panel = save_shows_tracking(visitor, anime, base)
    progress = panel.locator(".progress-text")
    expect(progress).to_have_text("0 / 26 episodes")
    submit(visitor, plus_one(panel, "episode"), anime, base, back_to=anime.path)
    expect(progress).to_have_text("1 / 26 episodes")
    expect(panel.locator(".status")).to_have_text("In progress")
    announced(visitor, anime.title, "1 of 26 episodes, in progress")
    if js:
        expect(plus_one(panel, "episode")).to_be_focused()
    assert anime.saved_rows(member).get().episode_progress == 1

    visitor.traffic.clear()
    if js:
        mark_document(page)
    plus_one(panel, "episode").dblclick()
    expect(progress).to_have_text("2 / 26 episodes")
    visitor.traffic.settle(page)
    posts = visitor.traffic.posts(anime.track_path)
    # Each press posts the absolute next value, so a second post would repeat, not add.
    assert posts and posted(posts, "episode_progress") == ["2"] * len(posts), posts
    if js:
        assert len(posts) == 1, posts  # hx-disable turns the button off while it runs
        assert_same_document(page, base + anime.path)
    else:
        expect(page).to_have_url(base + anime.path)
    expect(progress).to_have_text("2 / 26 episodes")
    row = anime.saved_rows(member).get()
    assert (row.episode_progress, row.status) == (2, Status.IN_PROGRESS)

    # The dashboard shows the same panels; a chapter read from there.
    nav_link(page, "Saved").click()
    expect(page).to_have_url(f"{base}/saved/")
    expect(watched_switch(tracking(dashboard_entry(page, movie), movie))).to_have_attribute(
        "aria-checked", "true"
    )
    expect(tracking(dashboard_entry(page, anime), anime).locator(".progress-text")).to_have_text(
        "2 / 26 episodes"
    )
    panel = tracking(dashboard_entry(page, manga), manga)
    expect(panel.locator(".progress-text")).to_have_text("0 / 120 chapters")
    expect(panel.locator(".status")).to_have_text("Planned")
    submit(visitor, plus_one(panel, "chapter"), manga, base, back_to="/saved/")
    expect(panel.locator(".progress-text")).to_have_text("1 / 120 chapters")
    expect(panel.locator("progress")).to_have_attribute("value", "1")
    expect(panel.locator("progress")).to_have_attribute("max", "120")
    expect(panel.locator(".status")).to_have_text("In progress")
    announced(visitor, manga.title, "1 of 120 chapters, in progress")
    row = manga.saved_rows(member).get()
    assert (row.chapter_progress, row.volume_progress, row.status) == (1, 0, Status.IN_PROGRESS)

    # Post/redirect/get: a reload shows what is stored and posts nothing.
    reload_without_posting(visitor, base)
    expect(panel.locator(".progress-text")).to_have_text("1 / 120 chapters")
    assert [m.saved_rows(member).count() for m in (movie, anime, manga)] == [1, 1, 1]
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_out_of_range_progress_changes_nothing(js, visit, live_server, catalog, member):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    anime = catalog["bebop"]
    SavedAnime.objects.create(
        user=member, anime=anime.item, episode_progress=3, status=Status.IN_PROGRESS, score=7
    )
    sign_in(page, base, member, anime.path)

    panel = tracking(page, anime)
    progress = panel.locator(".progress-text")
    expect(progress).to_have_text("3 / 26 episodes")
    expect(panel.get_by_label("Episodes watched")).to_be_hidden()
    panel.get_by_text("Edit tracking", exact=True).click()
    episodes = panel.get_by_label("Episodes watched")
    expect(episodes).to_have_value("3")
    episodes.fill("27")
    panel.get_by_label("Score (1–10)").fill("9")
    submit_invalid(visitor, panel.get_by_role("button", name="Update", exact=True), anime, base)

    # The message sits by its field, the form stays open, and what is stored is shown.
    expect(panel.get_by_role("alert")).to_contain_text("Nothing was changed")
    field = panel.locator(".field-episode_progress")
    expect(field.locator(".field-error")).to_have_text(BEBOP_TOO_FAR)
    expect(episodes).to_have_attribute("aria-invalid", "true")
    expect(episodes).to_have_accessible_description(BEBOP_TOO_FAR)
    expect(episodes).to_be_visible()
    expect(progress).to_have_text("3 / 26 episodes")
    expect(panel.locator(".status")).to_have_text("In progress")
    if js:
        expect(page.locator("p#announcer")).to_have_text(NOTHING_CHANGED)
        expect(panel.get_by_role("button", name="Update", exact=True)).to_be_focused()
    row = anime.saved_rows(member).get()
    assert (row.episode_progress, row.score, row.status) == (3, 7, Status.IN_PROGRESS)

    # Corrected, the whole form is saved, and the errors go.
    episodes.fill("12")
    submit(
        visitor,
        panel.get_by_role("button", name="Update", exact=True),
        anime,
        base,
        back_to=anime.path,
    )
    expect(progress).to_have_text("12 / 26 episodes")
    expect(panel.locator(".track-meta")).to_have_text("Score 9/10")
    expect(panel.get_by_role("alert")).to_have_count(0)
    expect(panel.locator(".field-error")).to_have_count(0)
    announced(visitor, anime.title, "12 of 26 episodes, in progress")
    row = anime.saved_rows(member).get()
    assert (row.episode_progress, row.score, row.status) == (12, 9, Status.IN_PROGRESS)

    reload_without_posting(visitor, base)
    expect(progress).to_have_text("12 / 26 episodes")
    assert anime.saved_rows(member).get().episode_progress == 12
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_dashboard_progress_screenshot(js, visit, live_server, catalog, member):
    base = live_server.url
    visitor = visit(js=js, viewport=DESKTOP)
    page = visitor.page
    movie, anime, manga = catalog["spirited"], catalog["bebop"], catalog["akira"]
    # A fixed watch date, and saves made today ("saved today"): the picture stays the same.
    SavedMovie.objects.create(
        user=member,
        movie=movie.item,
        watched=True,
        watched_on=date(2025, 11, 20),
        status=Status.COMPLETED,
    )
    SavedAnime.objects.create(
        user=member, anime=anime.item, episode_progress=12, status=Status.IN_PROGRESS, score=8
    )
    SavedManga.objects.create(
        user=member,
        manga=manga.item,
        chapter_progress=45,
        volume_progress=2,
        status=Status.IN_PROGRESS,
    )
    sign_in(page, base, member, "/saved/")

    expect(page.locator("li.entry .entry-title")).to_have_text(
        [manga.title, anime.title, movie.title]
    )
    panel = tracking(dashboard_entry(page, movie), movie)
    expect(watched_switch(panel)).to_have_attribute("aria-checked", "true")
    expect(panel.locator(".status")).to_have_text("Completed")
    for entry, text, value, total in (
        (anime, "12 / 26 episodes", "12", "26"),
        (manga, "45 / 120 chapters", "45", "120"),
    ):
        panel = tracking(dashboard_entry(page, entry), entry)
        expect(panel.locator(".progress-text")).to_have_text(text)
        expect(panel.locator("progress")).to_have_attribute("value", value)
        expect(panel.locator("progress")).to_have_attribute("max", total)
        expect(panel.locator("progress")).to_be_visible()
        expect(panel.locator(".status")).to_have_text("In progress")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the window"
    if js:  # the same page either way: one picture
        page.screenshot(path=screenshot_path("dashboard-tracking.png"), full_page=True)
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_a_note_of_500_emoji_is_500_characters_in_the_browser_too(
    js, visit, live_server, catalog, member
):
    """A browser's maxlength counts an emoji as two: the note field has none, so 500 emoji
    typed in are all kept, as the server and the database count them."""
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    anime: Entry = catalog["bebop"]
    SavedAnime.objects.create(user=member, anime=anime.item)
    sign_in(page, base, member, anime.path)
    panel = tracking(page, anime)
    panel.get_by_text("Edit tracking").click()
    note = panel.get_by_label("Private note")
    note.click()
    page.keyboard.insert_text("😀" * 500)  # as a person typing or pasting would
    assert note.evaluate("field => [...field.value].length") == 500
    submit(visitor, panel.get_by_role("button", name="Update"), anime, base, back_to=anime.path)
    assert SavedAnime.objects.get(user=member).note == "😀" * 500


@pytest.mark.parametrize("js", JS_MODES)
def test_the_days_read_and_the_rereads_on_a_phone(js, visit, live_server, catalog, member):
    """The days and the count are edited in the same form (date pickers), refused out of
    order with the reason by the field, and shown in the panel once set, all on a 320 px
    screen without sideways scrolling."""
    base = live_server.url
    visitor = visit(js=js, viewport={"width": 320, "height": 700})
    page = visitor.page
    manga: Entry = catalog["akira"]
    SavedManga.objects.create(
        user=member,
        manga=manga.item,
        chapter_progress=120,
        volume_progress=6,
        status=Status.COMPLETED,
    )
    sign_in(page, base, member, manga.path)
    panel = tracking(page, manga)
    expect(panel.locator(".track-dates")).to_have_count(0)
    panel.get_by_text("Edit tracking", exact=True).click()
    started = panel.get_by_label("Started", exact=True)
    expect(started).to_have_attribute("type", "date")
    started.fill("2024-01-03")
    panel.get_by_label("Finished", exact=True).fill("2023-12-31")
    panel.get_by_label("Times reread", exact=True).fill("2")
    check_phone_layout(page)
    update = panel.get_by_role("button", name="Update", exact=True)
    submit_invalid(visitor, update, manga, base)

    reason = "It was started on 3 Jan 2024: it cannot be finished before it was started."
    panel = tracking(page, manga)
    expect(panel.locator(".field-finished .field-error")).to_have_text(reason)
    expect(panel.get_by_label("Finished", exact=True)).to_have_accessible_description(reason)
    assert manga.saved_rows(member).get().started is None

    panel.get_by_label("Finished", exact=True).fill("2024-02-29")
    submit(visitor, panel.get_by_role("button", name="Update", exact=True), manga, base,
           back_to=manga.path)  # fmt: skip
    panel = tracking(page, manga)
    expect(panel.locator(".track-dates")).to_have_text("started 3 Jan 2024 · finished 29 Feb 2024")
    expect(panel.locator(".track-rewatches")).to_have_text("reread 2 times")
    announced(visitor, manga.title, "120 of 120 chapters, completed")
    row = manga.saved_rows(member).get()
    assert (row.started, row.finished, row.rewatches) == (date(2024, 1, 3), date(2024, 2, 29), 2)
    check_phone_layout(page)
    assert not visitor.traffic.problems, visitor.traffic.problems
