"""The whole journey by keyboard alone, with JavaScript on and off.

Sign up, find an item by searching, save it, track it, unsave it and sign out with Tab,
Shift+Tab, Enter, Space and typing into the focused field: no clicks, no `fill`. After each
htmx swap the focus stays on the control that was pressed (or its replacement) and the
polite live region says what happened; without JavaScript every form posts and the page
comes back, and the person tabs on from its start.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Locator, Page, expect

from e2e.a11y import active_element, focus_ring
from e2e.conftest import PASSWORD, Visitor
from e2e.test_journey import JS_MODES, mark_document, nav_link, save_button, unsave_button
from e2e.test_tracking import plus_one, sign_in, tracking, watched_switch
from media.models import SavedAnime, Status

MAX_PRESSES = 60


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab when `backwards`) until `target` has the focus; the presses it took."""
    key = "Shift+Tab" if backwards else "Tab"
    expect(target).to_be_visible()
    for presses in range(1, MAX_PRESSES + 1):
        page.keyboard.press(key)
        if is_focused(target):
            return presses
    raise AssertionError(
        f"{MAX_PRESSES} presses of {key} never reached {target}; "
        f"the focus is on {active_element(page)}"
    )


def assert_ring(page: Page) -> None:
    """The focused control shows a focus ring: it matches :focus-visible and draws one."""
    ring = focus_ring(page)
    assert ring["focusVisible"] and ring["ring"], (active_element(page), ring)


def skip_to_content(page: Page) -> None:
    """From a freshly loaded page: the first Tab stop is the skip link, and it moves the
    focus to the main content."""
    assert active_element(page)["tag"] == "body", active_element(page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # it shows itself when focused
    assert_ring(page)
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def say(page: Page, js: bool, live: str, flash: str) -> None:
    """What the person is told: the live region with JavaScript, the flash message without."""
    if js:
        expect(page.locator("#announcer")).to_contain_text(live)  # and Undo, after a removal
    else:
        # A removal's message also offers Undo: the message's text starts with the flash.
        expect(page.get_by_role("status").filter(has_text=flash)).to_contain_text(flash)


def focused_after(page: Page, js: bool, control: Locator) -> None:
    """With JavaScript the swap keeps the focus on `control` (the pressed one or its
    replacement), its ring showing; without, a new page starts with the focus on its body."""
    if js:
        expect(control).to_be_focused()
        assert_ring(page)
    else:
        expect(control).to_be_visible()
        assert active_element(page)["tag"] == "body", active_element(page)


@pytest.mark.parametrize("js", JS_MODES)
def test_keyboard_only_journey(js, visit, live_server, catalog):
    base = live_server.url
    visitor: Visitor = visit(js=js)
    page = visitor.page
    movie = catalog["spirited"]

    # Sign up from the home page's "Create your shelf".
    page.goto(base + "/")
    skip_to_content(page)
    tab_to(page, page.get_by_role("link", name="Create your shelf"))
    assert_ring(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/accounts/signup/")
    # The form is the whole page: Django's autofocus puts the focus in its first field.
    expect(page.get_by_label("Username")).to_be_focused()
    assert_ring(page)
    page.keyboard.type("keys")
    tab_to(page, page.get_by_label("Password", exact=True))
    page.keyboard.type(PASSWORD)
    tab_to(page, page.get_by_label("Password confirmation"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/saved/")
    expect(page.get_by_role("status").filter(has_text="Welcome")).to_have_text(
        "Welcome to Shelf, keys."
    )
    user = get_user_model().objects.get(username="keys")

    # Find the movie: the Movies page, its search field, the result.
    tab_to(page, nav_link(page, "Movies"))
    assert_ring(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/movies/")
    skip_to_content(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("searchbox", name="Search movies by title")).to_be_focused()
    page.keyboard.type("spirited")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/movies/?q=spirited")
    result = page.get_by_role("link", name=movie.title, exact=True)
    tab_to(page, result)
    assert_ring(page)  # drawn around the card, the link's whole target
    page.keyboard.press("Enter")
    expect(page).to_have_url(base + movie.path)

    # Save it with Enter.
    if js:
        mark_document(page)  # from here on htmx swaps, the page never reloads
    tab_to(page, save_button(page))
    assert_ring(page)
    page.keyboard.press("Enter")
    focused_after(page, js, unsave_button(page))
    say(page, js, f"Saved “{movie.title}”.", f"Saved “{movie.title}”.")
    assert movie.saved_rows(user).count() == 1
    panel = tracking(page, movie)
    expect(panel).to_be_visible()
    visitor.traffic.settle(page)
    if js:  # the tracking panel loaded after the swap and left the focus alone
        expect(unsave_button(page)).to_be_focused()

    # Mark it watched with Space.
    switch = watched_switch(panel)
    tab_to(page, switch)
    assert_ring(page)
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-checked", "true")
    focused_after(page, js, switch)
    say(page, js, f"Updated {movie.title}: watched, completed", f"Updated “{movie.title}”.")
    assert movie.saved_rows(user).get().watched

    # Score it: a wrong score is refused and said so, then corrected.
    summary = panel.get_by_text("Edit tracking", exact=True)
    tab_to(page, summary)
    assert_ring(page)
    page.keyboard.press("Enter")
    score = panel.get_by_label("Score (1–10)")
    tab_to(page, score)
    page.keyboard.type("11")
    page.keyboard.press("Enter")
    expect(score).to_have_attribute("aria-invalid", "true")
    expect(panel.get_by_role("alert")).to_contain_text("Nothing was changed")
    if js:
        expect(score).to_be_focused()
        expect(page.locator("#announcer")).to_have_text(
            "Nothing was changed: please correct the fields marked in the form."
        )
    else:
        expect(page).to_have_url(base + movie.track_path)
    assert movie.saved_rows(user).get().score is None
    if not js:
        tab_to(page, score)  # the refused page comes back with the form open
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    expect(panel.locator(".track-meta").filter(has_text="Score")).to_have_text("Score 9/10")
    focused_after(page, js, score if js else panel)
    say(page, js, f"Updated {movie.title}: watched, completed", f"Updated “{movie.title}”.")
    assert movie.saved_rows(user).get().score == 9

    # Unsave it: back up to its button.
    tab_to(page, unsave_button(page), backwards=js)
    assert_ring(page)
    page.keyboard.press("Enter")
    focused_after(page, js, save_button(page))
    say(page, js, f"Removed “{movie.title}”.", f"Removed “{movie.title}”.")
    expect(tracking(page, movie)).to_have_count(0)
    assert movie.saved_rows(user).count() == 0

    if js:
        assert page.evaluate("window.__marker") == 1, "a press reloaded the page"

    # Sign out: the button sits in the header, before the main content.
    sign_out = page.get_by_role("button", name="Sign out")
    tab_to(page, sign_out, backwards=js)
    assert_ring(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # The refused score (422) is the one answer that may fail.
    unexpected = [p for p in visitor.traffic.problems if "422" not in p]
    assert not unexpected, unexpected


@pytest.mark.parametrize("js", JS_MODES)
def test_last_episode_by_keyboard_moves_focus_to_the_panel(js, visit, live_server, catalog, member):
    """Pressing "+1" for the last episode removes that button: the focus goes to the panel's
    next control ("Edit tracking") rather than being lost on the page."""
    base = live_server.url
    visitor: Visitor = visit(js=js)
    page = visitor.page
    anime = catalog["bebop"]
    SavedAnime.objects.create(
        user=member, anime=anime.item, episode_progress=25, status=Status.IN_PROGRESS
    )
    sign_in(page, base, member, anime.path)
    panel = tracking(page, anime)
    tab_to(page, plus_one(panel, "episode"))
    page.keyboard.press("Enter")
    expect(panel.locator(".progress-text")).to_have_text("26 / 26 episodes")
    expect(plus_one(panel, "episode")).to_have_count(0)
    expect(panel.locator(".status")).to_have_text("Completed")
    focused_after(page, js, panel.get_by_text("Edit tracking", exact=True))
    say(
        page,
        js,
        f"Updated {anime.title}: 26 of 26 episodes, completed",
        f"Updated “{anime.title}”.",
    )
    assert anime.saved_rows(member).get().episode_progress == 26
