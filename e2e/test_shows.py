"""TV shows in a real browser, with JavaScript on and off.

A show's progress is a season and an episode in it: its tracking panel reads "S2 · E5 of 10"
(that season's episodes), draws a bar over the whole show, and offers +1, which posts the
absolute next position (both fields, with `only`) and rolls into the next season at a
season's end. "Edit tracking" edits both. With JavaScript each form is an htmx request that
swaps the panel in place (422 and the errors for invalid input); without it the forms post
and redirect (303), or answer the item page with the errors (422). Both must end in the same
rows. The shows are made here, not taken from the demo catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from e2e.conftest import Entry, Visitor
from e2e.test_a11y import PageChecks
from e2e.test_journey import (
    JS_MODES,
    assert_same_document,
    dashboard_entry,
    mark_document,
    press,
    reload_without_posting,
    unsave_button,
)
from e2e.test_keyboard import assert_ring, tab_to
from e2e.test_providers import search_from_header
from e2e.test_tracking import (
    NOTHING_CHANGED,
    announced,
    posted,
    save_shows_tracking,
    sign_in,
    submit,
    submit_invalid,
    tracking,
)
from e2e.test_undo import columns, undo_button
from media.kinds import KINDS
from media.models import SavedShow, Show, Status

FAWLTY = "Fawlty Towers"
SHERLOCK = "Sherlock"
EPISODE_TOO_FAR = "Season 2 of Fawlty Towers has 6 episodes: enter a number from 0 to 6."
NO_SUCH_SEASON = "Fawlty Towers has 2 seasons: enter a season from 1 to 2."
DASHBOARD = "/saved/?kind=show"
SAVED_AT = datetime(2025, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
UPDATED_AT = datetime(2026, 1, 2, 3, 4, 5, 654321, tzinfo=UTC)


@pytest.fixture
def shows(transactional_db) -> dict[str, Entry]:
    """Two real shows: one of two six-episode series, one with specials (season 0)."""
    kind = KINDS["show"]
    fawlty = Show.objects.create(
        title=FAWLTY,
        year=1975,
        synopsis="Basil Fawlty runs a hotel in Torquay, badly, with his wife Sybil.",
        seasons=[{"number": 1, "episodes": 6}, {"number": 2, "episodes": 6}],
    )
    sherlock = Show.objects.create(
        title=SHERLOCK,
        year=2010,
        seasons=[
            {"number": 0, "episodes": 2},
            *({"number": number, "episodes": 3} for number in range(1, 5)),
        ],
    )
    return {"fawlty": Entry(kind, fawlty), "sherlock": Entry(kind, sherlock)}


def plus_one(scope: Page | Locator) -> Locator:
    """A show's +1, whose name says where it goes: "+1 episode: season 2, episode 1"."""
    return scope.get_by_role("button", name=re.compile(r"^\+1 episode: season \d+, episode \d+$"))


def goes_to(season: int, episode: int) -> str:
    return f"+1 episode: season {season}, episode {episode}"


def watching(user, entry: Entry, season: int, episode: int, **more) -> SavedShow:
    """`user`'s save of the show at (season, episode), in progress unless `more` says."""
    return SavedShow.objects.create(
        user=user,
        show=entry.item,
        season_progress=season,
        episode_progress=episode,
        **{"status": Status.IN_PROGRESS, **more},
    )


def stored(entry: Entry, user) -> tuple[int, int, str]:
    row = entry.saved_rows(user).get()
    return row.season_progress, row.episode_progress, row.status


def shows_progress(panel: Locator, text: str, watched: int, total: int = 12) -> None:
    """The panel reads `text` ("S2 · E1 of 6"), and its bar and count are over the show."""
    expect(panel.locator(".progress-text")).to_have_text(text)
    bar = panel.locator("progress")
    expect(bar).to_have_attribute("value", str(watched))
    expect(bar).to_have_attribute("max", str(total))
    expect(panel.locator(".track-meta").filter(has_text="episodes")).to_have_text(
        f"{watched} / {total} episodes"
    )


def status_of(panel: Locator) -> Locator:
    return panel.locator(".status")


def send(
    visitor: Visitor, act: Callable[[], None], entry: Entry, base_url: str, *, back_to: str
) -> Response:
    """Send a tracking form by `act` (a click, a key) with valid input, and check how the
    request went: with JavaScript one htmx fetch answered 200 in the same document; without,
    a plain form post answered 303 to `back_to`."""
    return press(visitor, act, entry, base_url, back_to=back_to, path=entry.track_path)


def next_episode(visitor: Visitor, panel: Locator, entry: Entry, base_url: str, *, back_to: str):
    return send(visitor, plus_one(panel).click, entry, base_url, back_to=back_to)


def open_form(panel: Locator) -> None:
    panel.get_by_text("Edit tracking", exact=True).click()
    expect(panel.get_by_label("Episode", exact=True)).to_be_visible()


def update(panel: Locator) -> Locator:
    return panel.get_by_role("button", name="Update", exact=True)


@pytest.mark.parametrize("js", JS_MODES)
def test_find_save_and_watch_into_the_second_season(
    js, visit, live_server, member, shows, providers, settings
):
    """Search, open, Save; +1 by click, by keyboard and by a double click up to the end of
    season 1, then once more into season 2: "S2 · E1 of 6"."""
    settings.TMDB_API_KEY = ""  # Shelf's own catalog finds it (TMDB's search: the last test)
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    fawlty = shows["fawlty"]
    sign_in(page, base, member, "/")

    # Find it: the header's search, the TV shows section, the result.
    search_from_header(page, "fawlty")
    expect(page).to_have_url(f"{base}/search/?q=fawlty")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results for “fawlty”")
    found = page.get_by_role("region", name="TV shows")
    expect(found.locator(".card-title")).to_have_text([FAWLTY])  # not Sherlock
    expect(found.locator(".card-meta")).to_have_text("1975 · 2 seasons")
    expect(page.get_by_role("region", name="Movies")).to_contain_text("No movies in the catalog")
    found.get_by_role("link", name=FAWLTY, exact=True).click()
    expect(page).to_have_url(base + fawlty.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(FAWLTY)
    expect(page.locator(".item-meta")).to_have_text("1975 · 2 seasons · 12 episodes")

    # Save it: the panel starts before the first episode of season 1.
    panel = save_shows_tracking(visitor, fawlty, base)
    expect(panel).to_have_accessible_name(f"Tracking {FAWLTY}")
    shows_progress(panel, "S1 · E0 of 6", 0)
    expect(plus_one(panel)).to_have_accessible_name(goes_to(1, 1))
    assert stored(fawlty, member) == (0, 0, Status.PLANNED)

    # +1 with the mouse.
    next_episode(visitor, panel, fawlty, base, back_to=fawlty.path)
    shows_progress(panel, "S1 · E1 of 6", 1)
    expect(status_of(panel)).to_have_text("In progress")
    announced(visitor, FAWLTY, "season 1, episode 1 of 6, in progress")
    assert stored(fawlty, member) == (1, 1, Status.IN_PROGRESS)

    # +1 by keyboard, twice: Tab from Unsave reaches +1 next, and Enter sends it. With
    # JavaScript the focus stays on +1; without, the new page starts at its top again.
    for episode in (2, 3):
        if js and episode == 3:
            expect(plus_one(panel)).to_be_focused()
        else:
            unsave_button(page).focus()
            assert tab_to(page, plus_one(panel)) == 1
        assert_ring(page)
        expect(plus_one(panel)).to_have_accessible_name(goes_to(1, episode))
        send(visitor, lambda: page.keyboard.press("Enter"), fawlty, base, back_to=fawlty.path)
        shows_progress(panel, f"S1 · E{episode} of 6", episode)
        assert stored(fawlty, member) == (1, episode, Status.IN_PROGRESS)

    # A fast double click: each press posts the absolute next position, so a second post
    # repeats E4 instead of skipping to E5.
    visitor.traffic.clear()
    if js:
        mark_document(page)
    plus_one(panel).dblclick()
    shows_progress(panel, "S1 · E4 of 6", 4)
    visitor.traffic.settle(page)
    posts = visitor.traffic.posts(fawlty.track_path)
    assert posts, "the double click sent nothing"
    assert posted(posts, "season_progress") == ["1"] * len(posts), posts
    assert posted(posts, "episode_progress") == ["4"] * len(posts), posts
    if js:
        assert len(posts) == 1, posts  # hx-disable turns the button off while it runs
        assert_same_document(page, base + fawlty.path)
    else:
        expect(page).to_have_url(base + fawlty.path)
    shows_progress(panel, "S1 · E4 of 6", 4)
    assert stored(fawlty, member) == (1, 4, Status.IN_PROGRESS)

    for episode in (5, 6):
        next_episode(visitor, panel, fawlty, base, back_to=fawlty.path)
        shows_progress(panel, f"S1 · E{episode} of 6", episode)
    # At the end of season 1, +1 says it goes on to season 2.
    expect(plus_one(panel)).to_have_accessible_name(goes_to(2, 1))

    # Across the season boundary. With JavaScript, htmx swaps a fragment for the panel:
    # the old panel leaves the page, the window's marker stays, no document is loaded.
    visitor.traffic.clear()
    before = panel.element_handle()
    response = next_episode(visitor, panel, fawlty, base, back_to=fawlty.path)
    if js:
        assert not before.evaluate("section => section.isConnected"), "the panel was not swapped"
        assert "<html" not in response.text() and 'class="tracking"' in response.text()
        loads = [r.url for r in visitor.traffic.requests if r.resource_type == "document"]
        assert loads == [], loads
    shows_progress(panel, "S2 · E1 of 6", 7)
    expect(status_of(panel)).to_have_text("In progress")
    expect(plus_one(panel)).to_have_accessible_name(goes_to(2, 2))
    announced(visitor, FAWLTY, "season 2, episode 1 of 6, in progress")
    if js:
        expect(plus_one(panel)).to_be_focused()
    assert stored(fawlty, member) == (2, 1, Status.IN_PROGRESS)

    # Post/redirect/get: a reload shows what is stored and posts nothing.
    reload_without_posting(visitor, base)
    shows_progress(tracking(page, fawlty), "S2 · E1 of 6", 7)
    assert stored(fawlty, member) == (2, 1, Status.IN_PROGRESS)
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_the_last_plus_one_completes_the_show(js, visit, live_server, member, shows):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    fawlty = shows["fawlty"]
    watching(member, fawlty, 2, 4)
    sign_in(page, base, member, fawlty.path)
    panel = tracking(page, fawlty)
    shows_progress(panel, "S2 · E4 of 6", 10)

    next_episode(visitor, panel, fawlty, base, back_to=fawlty.path)
    shows_progress(panel, "S2 · E5 of 6", 11)
    expect(status_of(panel)).to_have_text("In progress")
    expect(plus_one(panel)).to_have_accessible_name(goes_to(2, 6))

    next_episode(visitor, panel, fawlty, base, back_to=fawlty.path)
    shows_progress(panel, "S2 · E6 of 6", 12)
    expect(status_of(panel)).to_have_text("Completed")
    expect(plus_one(panel)).to_have_count(0)  # nothing after the last episode
    expect(panel.get_by_role("button", name=re.compile(r"^\+1"))).to_have_count(0)
    announced(visitor, FAWLTY, "season 2, episode 6 of 6, completed")
    if js:  # +1 is gone: the focus goes to what the panel still offers
        expect(panel.locator("summary")).to_be_focused()
    assert stored(fawlty, member) == (2, 6, Status.COMPLETED)

    reload_without_posting(visitor, base)
    panel = tracking(page, fawlty)
    shows_progress(panel, "S2 · E6 of 6", 12)
    expect(status_of(panel)).to_have_text("Completed")
    expect(plus_one(panel)).to_have_count(0)
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_completed_in_the_form_moves_to_the_last_episode(js, visit, live_server, member, shows):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    fawlty = shows["fawlty"]
    watching(member, fawlty, 1, 3)
    sign_in(page, base, member, fawlty.path)
    panel = tracking(page, fawlty)
    shows_progress(panel, "S1 · E3 of 6", 3)

    open_form(panel)
    expect(panel.get_by_label("Season", exact=True)).to_have_value("1")
    expect(panel.get_by_label("Episode", exact=True)).to_have_value("3")
    panel.get_by_label("Status", exact=True).select_option(label="Completed")
    submit(visitor, update(panel), fawlty, base, back_to=fawlty.path)

    shows_progress(panel, "S2 · E6 of 6", 12)
    expect(status_of(panel)).to_have_text("Completed")
    expect(plus_one(panel)).to_have_count(0)
    announced(visitor, FAWLTY, "season 2, episode 6 of 6, completed")
    if js:  # the form stays open for the person who used it
        expect(update(panel)).to_be_focused()
    else:
        open_form(panel)
    expect(panel.get_by_label("Season", exact=True)).to_have_value("2")
    expect(panel.get_by_label("Episode", exact=True)).to_have_value("6")
    expect(panel.get_by_label("Status", exact=True)).to_have_value(Status.COMPLETED)
    assert stored(fawlty, member) == (2, 6, Status.COMPLETED)
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_an_episode_past_its_season_changes_nothing(js, visit, live_server, member, shows):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    fawlty = shows["fawlty"]
    watching(member, fawlty, 2, 1, score=8)
    sign_in(page, base, member, fawlty.path)
    panel = tracking(page, fawlty)
    shows_progress(panel, "S2 · E1 of 6", 7)

    # Episode 9 of a six-episode season, and a new score beside it.
    open_form(panel)
    season = panel.get_by_label("Season", exact=True)
    episode = panel.get_by_label("Episode", exact=True)
    episode.fill("9")
    panel.get_by_label("Score (1–10)").fill("5")
    submit_invalid(visitor, update(panel), fawlty, base)

    # The message sits by its field, the form stays open, and what is stored is shown.
    expect(panel.get_by_role("alert")).to_contain_text("Nothing was changed")
    expect(panel.locator(".field-episode_progress .field-error")).to_have_text(EPISODE_TOO_FAR)
    expect(episode).to_be_visible()
    expect(episode).to_have_attribute("aria-invalid", "true")
    expect(episode).to_have_accessible_description(re.compile(re.escape(EPISODE_TOO_FAR)))
    expect(panel.locator(".field-season_progress .field-error")).to_have_count(0)
    shows_progress(panel, "S2 · E1 of 6", 7)
    expect(status_of(panel)).to_have_text("In progress")
    expect(panel.locator(".track-meta").filter(has_text="Score")).to_have_text("Score 8/10")
    if js:
        expect(page.locator("p#announcer")).to_have_text(NOTHING_CHANGED)
        expect(update(panel)).to_be_focused()
    row = fawlty.saved_rows(member).get()
    assert (row.season_progress, row.episode_progress, row.score) == (2, 1, 8)

    # A season the show does not have.
    season.fill("3")
    episode.fill("1")
    submit_invalid(visitor, update(panel), fawlty, base)
    expect(panel.locator(".field-season_progress .field-error")).to_have_text(NO_SUCH_SEASON)
    expect(season).to_have_attribute("aria-invalid", "true")
    expect(season).to_have_accessible_description(re.compile(re.escape(NO_SUCH_SEASON)))
    shows_progress(panel, "S2 · E1 of 6", 7)
    assert stored(fawlty, member) == (2, 1, Status.IN_PROGRESS)

    # Corrected, the whole form is saved, and the errors go.
    season.fill("2")
    episode.fill("4")
    submit(visitor, update(panel), fawlty, base, back_to=fawlty.path)
    shows_progress(panel, "S2 · E4 of 6", 10)
    expect(panel.locator(".track-meta").filter(has_text="Score")).to_have_text("Score 5/10")
    expect(panel.get_by_role("alert")).to_have_count(0)
    expect(panel.locator(".field-error")).to_have_count(0)
    announced(visitor, FAWLTY, "season 2, episode 4 of 6, in progress")
    row = fawlty.saved_rows(member).get()
    assert (row.season_progress, row.episode_progress, row.score) == (2, 4, 5)
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_unsave_and_undo_bring_the_show_back_as_it_was(js, visit, live_server, member, shows):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    fawlty = shows["fawlty"]
    saved = watching(
        member,
        fawlty,
        2,
        3,
        status=Status.ON_HOLD,
        score=7,
        note="Paused before “The Kipper and the Corpse” 🐟",
        started=date(2025, 6, 7),
        rewatches=1,
    )
    SavedShow.objects.filter(pk=saved.pk).update(created=SAVED_AT, updated=UPDATED_AT)
    before = columns(fawlty, member)
    sign_in(page, base, member, fawlty.path)
    panel = tracking(page, fawlty)
    shows_progress(panel, "S2 · E3 of 6", 9)
    expect(status_of(panel)).to_have_text("On hold")

    press(visitor, unsave_button(page), fawlty, base, back_to=fawlty.path)
    assert not fawlty.saved_rows(member).exists()
    expect(tracking(page, fawlty)).to_have_count(0)
    if js:
        toast = page.locator("#announcer")
        expect(toast).to_contain_text(f"Removed “{FAWLTY}”.")
        expect(undo_button(toast, fawlty)).to_be_visible()
        undo = undo_button(page.locator(".save-control"), fawlty)
    else:
        message = page.get_by_role("status").filter(has_text="Removed")
        expect(message).to_contain_text(f"Removed “{FAWLTY}”.")
        undo = undo_button(message, fawlty)
    press(visitor, undo, fawlty, base, back_to=fawlty.path)

    # Every column as it was: the season, the episode, the status, score, note, days, times.
    assert columns(fawlty, member) == before
    panel = tracking(page, fawlty)
    shows_progress(panel, "S2 · E3 of 6", 9)
    expect(status_of(panel)).to_have_text("On hold")
    expect(panel.locator(".track-meta").filter(has_text="Score")).to_have_text("Score 7/10")
    expect(panel.locator(".track-dates")).to_have_text("started 7 Jun 2025")
    expect(panel.locator(".track-rewatches")).to_have_text("rewatched once")
    expect(plus_one(panel)).to_have_accessible_name(goes_to(2, 4))
    expect(unsave_button(page)).to_be_visible()
    if js:
        expect(page.locator("#announcer")).to_have_text(
            f"Put “{FAWLTY}” back on your shelf, as it was."
        )
        expect(unsave_button(page)).to_be_focused()
    else:
        expect(page.get_by_role("status").filter(has_text="Put")).to_contain_text(
            "back on your shelf, as it was"
        )
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_the_dashboard_entry_reads_the_season_and_counts_on(js, visit, live_server, member, shows):
    """The show's entry on /saved/?kind=show reads as its page does, and +1 there goes to
    the end of season 1, into season 2, and on."""
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    fawlty = shows["fawlty"]
    watching(member, fawlty, 1, 5)
    sign_in(page, base, member, DASHBOARD)
    expect(page.locator("li.entry .entry-title")).to_have_text([FAWLTY])

    panel = tracking(dashboard_entry(page, fawlty), fawlty)
    shows_progress(panel, "S1 · E5 of 6", 5)
    expect(plus_one(panel)).to_have_accessible_name(goes_to(1, 6))
    for now, watched, then in (((1, 6), 6, (2, 1)), ((2, 1), 7, (2, 2)), ((2, 2), 8, (2, 3))):
        next_episode(visitor, panel, fawlty, base, back_to=DASHBOARD)
        panel = tracking(dashboard_entry(page, fawlty), fawlty)
        text = f"S{now[0]} · E{now[1]} of 6"
        shows_progress(panel, text, watched)
        expect(plus_one(panel)).to_have_accessible_name(goes_to(*then))
        announced(visitor, FAWLTY, f"season {now[0]}, episode {now[1]} of 6, in progress")
        assert stored(fawlty, member) == (*now, Status.IN_PROGRESS)
    # Still the dashboard's compact entry: its form opens on request.
    expect(panel.get_by_role("link", name=f"Edit tracking of {FAWLTY}")).to_be_visible()
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_specials_are_not_on_the_way_through(js, visit, live_server, member, shows):
    """Season 0 (specials) counts neither in the totals nor in +1's way: a new save starts
    at season 1, +1 at the end of season 3 goes to season 4, and the last episode of
    season 4 completes the show."""
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    sherlock = shows["sherlock"]
    sign_in(page, base, member, sherlock.path)
    expect(page.locator(".item-meta")).to_have_text("2010 · 4 seasons · 12 episodes")

    panel = save_shows_tracking(visitor, sherlock, base)
    shows_progress(panel, "S1 · E0 of 3", 0)
    expect(plus_one(panel)).to_have_accessible_name(goes_to(1, 1))
    next_episode(visitor, panel, sherlock, base, back_to=sherlock.path)
    shows_progress(panel, "S1 · E1 of 3", 1)

    # A special is no place on the way: season 0 with an episode is refused.
    open_form(panel)
    panel.get_by_label("Season", exact=True).fill("0")
    panel.get_by_label("Episode", exact=True).fill("1")
    submit_invalid(visitor, update(panel), sherlock, base)
    expect(panel.locator(".field-season_progress .field-error")).to_have_text(
        "Choose the season of that episode."
    )
    assert stored(sherlock, member) == (1, 1, Status.IN_PROGRESS)

    # The end of season 3, by the form; then +1 three times, to the end.
    panel.get_by_label("Season", exact=True).fill("3")
    panel.get_by_label("Episode", exact=True).fill("3")
    submit(visitor, update(panel), sherlock, base, back_to=sherlock.path)
    shows_progress(panel, "S3 · E3 of 3", 9)
    expect(plus_one(panel)).to_have_accessible_name(goes_to(4, 1))
    for episode in (1, 2, 3):
        next_episode(visitor, panel, sherlock, base, back_to=sherlock.path)
        shows_progress(panel, f"S4 · E{episode} of 3", 9 + episode)
    expect(status_of(panel)).to_have_text("Completed")
    expect(plus_one(panel)).to_have_count(0)
    announced(visitor, SHERLOCK, "season 4, episode 3 of 3, completed")
    assert stored(sherlock, member) == (4, 3, Status.COMPLETED)
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_the_show_pages_pass_axe(js, visit, new_context, live_server, member, shows):
    """The seasons panel on the item page (with the form's errors too) and on the dashboard,
    in both themes, and at 320 px without sideways scrolling."""
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    checks = PageChecks(visitor, base, new_context)
    fawlty = shows["fawlty"]
    watching(member, fawlty, 2, 1, score=8)
    sign_in(page, base, member, fawlty.path)
    checks.check("a show's page, its panel at S2 · E1")

    panel = tracking(page, fawlty)
    open_form(panel)
    panel.get_by_label("Episode", exact=True).fill("9")
    submit_invalid(visitor, update(panel), fawlty, base)
    checks.check("a show's form with an episode past its season")

    checks.open(DASHBOARD, "the dashboard's TV shows")
    checks.assert_clean()


@pytest.mark.parametrize("js", JS_MODES)
def test_a_show_the_catalog_lacks_is_found_at_tmdb_and_saved_with_its_seasons(
    js, visit, live_server, member, shows, providers
):
    """TMDB's TV search (the stand-in's recorded-shape answers) lists Breaking Bad; one press
    of Save adds it with its seasons (read from /tv/{id}) and saves it."""
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    sign_in(page, base, member, "/")
    search_from_header(page, "breaking")
    if js:  # htmx loaded TMDB's TV results into the page
        results = page.locator("#online-show")
        expect(results.get_by_role("heading", name="From TMDB")).to_be_visible()
        online = [r for r in visitor.traffic.requests if "/search/show/online/" in r.url]
        assert online and all(r.headers.get("hx-request") == "true" for r in online)
    else:
        page.get_by_role("link", name="Search TMDB for “breaking” in TV shows").click()
        expect(page).to_have_url(f"{base}/search/show/online/?q=breaking")
        results = page.locator("ul.results")
    found = results.locator("li.result").filter(has_text="Breaking Bad")
    expect(found).to_contain_text("2008")
    visitor.traffic.clear()
    found.get_by_role("button", name="Save Breaking Bad").click()
    expect(found.get_by_role("button", name="Unsave")).to_be_visible()
    show = Show.objects.get(tmdb_id=1396)
    assert (show.season_count, show.episodes, show.imdb_id) == (5, 62, "tt0903747")
    assert member.saved_shows.filter(show=show).count() == 1
    posts = visitor.traffic.posts("/add/show/")
    assert len(posts) == 1
    if js:
        assert posts[0].headers.get("hx-request") == "true"
    page.goto(f"{base}{show.get_absolute_url()}")
    expect(page.get_by_text("5 seasons · 62 episodes")).to_be_visible()
    expect(page.locator(".progress-text")).to_have_text("S1 · E0 of 7")
    visitor.traffic.settle(page)
    assert not visitor.traffic.problems, visitor.traffic.problems
