"""A person's journey through Shelf in a real browser, with JavaScript on and off.

With JavaScript, Save and Unsave are htmx requests that swap the button in place;
without it, the same forms post and redirect (303) back. Both must end in the same rows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from playwright.sync_api import Locator, Page, Response, Route, expect

from e2e.conftest import DESKTOP, PASSWORD, PHONE, Entry, Visitor

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
JS_MODES = [pytest.param(True, id="js-on"), pytest.param(False, id="js-off")]
# Logs every change of the live region to the console, where the test can read it.
ANNOUNCER_LOG = """
document.addEventListener("DOMContentLoaded", () => {
  const region = document.getElementById("announcer");
  new MutationObserver(() => console.info("announcer: " + region.textContent))
    .observe(region, {childList: true, characterData: true, subtree: true});
});
"""


def save_button(scope: Page | Locator) -> Locator:
    return scope.get_by_role("button", name="Save", exact=True)


def unsave_button(scope: Page | Locator) -> Locator:
    return scope.get_by_role("button", name="Unsave", exact=True)


def nav_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def dashboard_entry(page: Page, entry: Entry) -> Locator:
    return page.locator("li.entry").filter(
        has=page.get_by_role("link", name=entry.title, exact=True)
    )


def sign_up(page: Page, base_url: str, username: str) -> AbstractBaseUser:
    page.goto(f"{base_url}/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base_url}/saved/")
    expect(page.get_by_role("heading", name="Your shelf is empty")).to_be_visible()
    return get_user_model().objects.get(username=username)


def mark_document(page: Page) -> None:
    """Tag the current document; a navigation, even to the same URL, drops the tag."""
    page.evaluate("window.__marker = 1")


def assert_same_document(page: Page, url: str) -> None:
    assert page.url == url
    assert page.evaluate("window.__marker") == 1, "the page navigated"


def press(
    visitor: Visitor,
    button: Locator | Callable[[], None],
    entry: Entry,
    base_url: str,
    *,
    back_to: str,
    path: str | None = None,
) -> Response:
    """Press a button (or do `button()`: a key, say) whose form posts to `path` (the entry's
    save URL unless given) with valid input, and check how the request went, for either mode.

    With JavaScript: one htmx fetch, answered 200, and the same document stays.
    Without: a plain form post, answered 303, and the browser lands on `back_to`.
    """
    page = visitor.page
    if visitor.js:
        mark_document(page)
    url = base_url + (path or entry.save_path)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == url) as answer:
        button() if callable(button) else button.click()
    response = answer.value
    headers = response.request.all_headers()
    if visitor.js:
        assert headers.get("hx-request") == "true"
        assert response.request.resource_type == "fetch"
        assert response.status == 200
        visitor.traffic.settle(page)
        assert_same_document(page, base_url + back_to)
    else:
        assert "hx-request" not in headers
        assert response.request.resource_type == "document"
        assert response.status == 303
        assert response.headers["location"] == back_to
        expect(page).to_have_url(base_url + back_to)
    return response


def double_press(visitor: Visitor, entry: Entry, base_url: str, *, same_task: bool) -> None:
    """Press Save twice in quick succession: it must end saved, once, never toggled back.

    `same_task` clicks twice from one script, before any event handler can run in between
    (JavaScript only); otherwise it is a real double click of the mouse.
    """
    page = visitor.page
    visitor.traffic.clear()
    if visitor.js:
        mark_document(page)
    if same_task:
        save_button(page).evaluate("button => { button.click(); button.click(); }")
    else:
        save_button(page).dblclick()
    expect(unsave_button(page)).to_be_visible()
    visitor.traffic.settle(page)
    posts = visitor.traffic.posts(entry.save_path)
    if visitor.js:
        # htmx sends one request (hx-disable turns the button off while it runs).
        assert len(posts) == 1, posts
        assert_same_document(page, base_url + entry.path)
    else:
        assert posts, "the double click sent no request"
        expect(page).to_have_url(base_url + entry.path)
    expect(unsave_button(page)).to_be_visible()
    expect(save_button(page)).to_have_count(0)


def reload_without_posting(visitor: Visitor, base_url: str) -> None:
    """Reload the page: post/redirect/get means it is a GET, never a repeated post."""
    page = visitor.page
    visitor.traffic.clear()
    response = page.reload()
    assert response is not None and response.status == 200
    methods = [(r.method, r.url) for r in visitor.traffic.requests]
    assert ("GET", page.url) in methods
    assert all(method == "GET" for method, _ in methods), methods


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


def check_phone_layout(page: Page) -> None:
    """Nothing wider than a phone's screen: no sideways scrolling."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


@pytest.mark.parametrize("js", JS_MODES)
def test_save_and_unsave_journey(js, visit, live_server, catalog):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    movie, anime, manga = catalog["spirited"], catalog["bebop"], catalog["akira"]

    user = sign_up(page, base, "ada")

    # Save a movie from its page.
    nav_link(page, "Movies").click()
    page.get_by_role("link", name=movie.title).click()
    expect(page).to_have_url(base + movie.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(movie.title)
    press(visitor, save_button(page), movie, base, back_to=movie.path)
    expect(unsave_button(page)).to_be_visible()
    expect(save_button(page)).to_have_count(0)
    if js:
        expect(page.locator("p#announcer")).to_have_text(f"Saved “{movie.title}”.")
        expect(unsave_button(page)).to_be_focused()
    else:
        expect(page.get_by_role("status").filter(has_text="Saved")).to_have_text(
            f"Saved “{movie.title}”."
        )
    assert movie.saved_rows(user).count() == 1

    reload_without_posting(visitor, base)
    expect(unsave_button(page)).to_be_visible()
    assert movie.saved_rows(user).count() == 1

    # A fast double click on two other items: each is saved once, and stays saved.
    for entry, same_task in ((anime, False), (manga, js)):
        page.goto(base + entry.path)
        double_press(visitor, entry, base, same_task=same_task)
        assert entry.saved_rows(user).count() == 1
    saved_titles = [manga.title, anime.title, movie.title]

    # The dashboard lists every save, newest first, each linking to its item.
    nav_link(page, "Saved").click()
    expect(page).to_have_url(f"{base}/saved/")
    expect(page.locator("li.entry .entry-title")).to_have_text(saved_titles)
    expect(unsave_button(page.locator("li.entry"))).to_have_count(len(saved_titles))
    expect(page.get_by_role("link", name=catalog["paprika"].title)).to_have_count(0)
    link = dashboard_entry(page, movie).get_by_role("link", name=movie.title, exact=True)
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", movie.path)
    assert not visitor.traffic.problems, visitor.traffic.problems
    page.set_viewport_size(PHONE)
    check_phone_layout(page)
    page.set_viewport_size(DESKTOP)

    # Unsave the movie from the dashboard.
    row = dashboard_entry(page, movie)
    press(visitor, unsave_button(row), movie, base, back_to="/saved/")
    if js:
        # The entry stays until the next visit, its button turned back to Save.
        expect(save_button(row)).to_be_visible()
        expect(unsave_button(row)).to_have_count(0)
        expect(save_button(row)).to_be_focused()
        toast = page.locator("p#announcer")
        expect(toast).to_contain_text(f"Removed “{movie.title}”.")
        expect(toast.get_by_role("button", name=f"Undo removing {movie.title}")).to_be_visible()
        expect(row.get_by_role("button", name=f"Undo removing {movie.title}")).to_be_visible()
        page.reload()
    else:
        removed = page.get_by_role("status").filter(has_text="Removed")
        expect(removed).to_contain_text(f"Removed “{movie.title}”.")
        expect(removed.get_by_role("button", name=f"Undo removing {movie.title}")).to_be_visible()
    still_saved = [title for title in saved_titles if title != movie.title]
    expect(page.locator("li.entry .entry-title")).to_have_text(still_saved)
    assert movie.saved_rows(user).count() == 0
    assert [e.saved_rows(user).count() for e in (anime, manga)] == [1, 1]

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_anonymous_save_asks_to_sign_in_and_comes_back(js, visit, live_server, catalog, member):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    movie = catalog["spirited"]

    page.goto(base + movie.path)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == base + movie.save_path
    ) as answer:
        save_button(page).click()
    login_url = f"/accounts/login/?next={movie.path}"
    if js:  # htmx is told to go there with a full page load
        assert answer.value.request.all_headers().get("hx-request") == "true"
        assert answer.value.headers.get("hx-redirect") == login_url
    else:
        assert answer.value.status == 302
        assert answer.value.headers["location"] == login_url
    expect(page).to_have_url(re.compile(r"/accounts/login/\?"))
    assert parse_qs(urlsplit(page.url).query) == {"next": [movie.path]}
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(base + movie.path)
    expect(page.get_by_text(member.username, exact=True)).to_be_visible()
    # Pressing Save while signed out saved nothing; the person presses it again.
    expect(save_button(page)).to_be_visible()
    assert movie.saved_rows(member).count() == 0
    assert not visitor.traffic.problems, visitor.traffic.problems


@pytest.mark.parametrize("js", JS_MODES)
def test_signed_out_save_is_not_announced_as_saved(js, visit, live_server, catalog):
    """Neither the live region (JavaScript) nor a flash message (without) says "Saved"."""
    visitor = visit(js=js)
    page = visitor.page
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    page.add_init_script(ANNOUNCER_LOG)
    movie = catalog["spirited"]
    page.goto(live_server.url + movie.path)

    def slow_network(route: Route) -> None:
        # Keep the item page up long enough for htmx-feedback.js (it speaks 50 ms after an answer).
        time.sleep(0.3)
        route.continue_()

    page.route(re.compile(r"/accounts/login/"), slow_network)
    save_button(page).click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    assert not movie.kind.saved_model.objects.exists()
    assert not [line for line in said if line.startswith("announcer: Saved")], said
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_count(0)


def expire_the_form(page: Page, entry: Entry, monkeypatch) -> None:
    # A token of the right shape that is not this session's, as in a page from before sign-in.
    page.locator("form.save-form input[name=csrfmiddlewaretoken]").evaluate(
        "input => { input.value = 'a'.repeat(64); }"
    )


def remove_the_item(page: Page, entry: Entry, monkeypatch) -> None:
    type(entry.item).objects.filter(pk=entry.item.pk).delete()  # the entry keeps its pk


def break_saving(page: Page, entry: Entry, monkeypatch) -> None:
    # The live server runs in this process: saving fails there as a bug would.
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in saving")

    monkeypatch.setattr("media.views.saving.save_item", broken)


@pytest.mark.parametrize(
    ("failure", "status", "said"),
    [
        (expire_the_form, 403, "That form has expired. Reload the page and try again."),
        (remove_the_item, 404, "That item is no longer on your shelf."),
        (break_saving, 500, "Something went wrong. Please try again."),
    ],
    ids=["expired-form", "item-gone", "server-error"],
)
def test_a_refused_save_leaves_the_button_and_says_why(
    failure, status, said, visit, live_server, catalog, monkeypatch
):
    """htmx 4 swaps error answers unless told not to: base.html's <body> tells it, once for
    every form. The error page must never replace the button."""
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    movie = catalog["spirited"]
    user = sign_up(page, base, "ada")
    page.goto(base + movie.path)
    failure(page, movie, monkeypatch)
    mark_document(page)

    with (
        page.expect_console_message(lambda m: m.type == "error") as logged,
        page.expect_response(
            lambda r: r.request.method == "POST" and r.url == base + movie.save_path
        ) as answer,
    ):
        save_button(page).click()
    response = answer.value
    assert response.status == status
    assert response.request.all_headers().get("hx-request") == "true"  # htmx sent it
    assert response.request.resource_type == "fetch"
    visitor.traffic.settle(page)
    assert_same_document(page, base + movie.path)

    expect(page.get_by_role("heading", level=1)).to_have_text([movie.title])
    expect(page.locator("form.save-form")).to_have_count(1)
    expect(save_button(page)).to_be_enabled()  # hx-disable let it go again
    expect(page.locator("#announcer")).to_have_text(said)
    assert not movie.kind.saved_model.objects.filter(user=user).exists()
    visitor.traffic.excuse(response, logged.value)
    assert not visitor.traffic.problems, visitor.traffic.problems
