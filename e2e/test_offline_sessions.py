"""Offline copies end with the session they were drawn for, in a real Chromium with JavaScript
on (service workers run only then): the admin's sign-out deletes them like Shelf's own, and a
session that simply expires leaves nothing of its person for the next one to open offline."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from e2e.conftest import PASSWORD
from e2e.test_offline import (
    CACHES,
    QUEUE,
    databases,
    expect_offline_page,
    go,
    page_caches,
    person_key,
    wait_for_worker,
)
from e2e.test_tracking import sign_in
from media.models import SavedMovie

NOTE = "Spare key under the third flowerpot"
# Long enough to sign in and open two pages on a busy machine, short enough to wait out.
SESSION_AGE = 15


def shelf_caches(page: Page, key: str) -> list[str]:
    """The names of every cache (pages, posters) kept for the person of `key`."""
    return [name for name in page.evaluate(CACHES) if name.endswith(key)]


def expect_none_kept_for(page: Page, key: str) -> None:
    """Wait until no cache is kept for `key` (the worker deletes them as it keeps the page it
    just answered with, after answering)."""
    for _ in range(50):
        if not shelf_caches(page, key):
            return
        page.wait_for_timeout(100)
    pytest.fail(f"still kept for {key}: {shelf_caches(page, key)}")


def signed_out(page: Page):
    """The header's Sign in link, there when a page was drawn for nobody."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")


def keep_two_pages(page: Page, base: str, movie) -> tuple[str, int]:
    """Open the movie's page (its note in the tracking form) and the dashboard through the
    worker; answers whose pages they are and when that session ends (epoch seconds)."""
    answer = go(page, base + movie.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(movie.title)
    assert NOTE in page.content()
    go(page, base + "/saved/")
    key = person_key(page)
    assert [urls for name, urls in page_caches(page).items() if name.endswith(key)] == [
        [base + movie.path, base + "/saved/"]
    ]
    return key, int(answer.headers["shelf-session-ends"])


@pytest.fixture
def ada(transactional_db, catalog):
    """A staff member (so she can use the admin) with a private note on a saved movie."""
    person = get_user_model().objects.create_user(
        "ada", password=PASSWORD, is_staff=True, is_superuser=True
    )
    SavedMovie.objects.create(user=person, movie=catalog["spirited"].item, note=NOTE)
    return person


def test_the_admins_sign_out_deletes_the_offline_copies(visit, live_server, catalog, ada):
    base = live_server.url
    page = visit(js=True).page
    movie = catalog["spirited"]
    page.goto(base + "/")
    wait_for_worker(page)  # in control before signing in, so the pages below are kept
    sign_in(page, base, ada, "/saved/")
    key, _ = keep_two_pages(page, base, movie)
    assert QUEUE in databases(page)

    page.goto(base + "/admin/")  # never through the worker, and no Shelf script on it
    with page.expect_response(base + "/admin/logout/") as answer:
        page.get_by_role("button", name="Log out").click()
    assert answer.value.status == 302
    assert answer.value.all_headers().get("clear-site-data") == '"cache", "storage"'
    expect(page).to_have_url(base + "/")
    expect(signed_out(page)).to_be_visible()
    wait_for_worker(page)  # registered again by the page the sign-out led to

    # Only the header can have done this: the worker forgets pages, never the offline queue.
    assert QUEUE not in databases(page)
    assert page_caches(page) == {}
    assert shelf_caches(page, key) == []

    page.context.set_offline(True)
    go(page, base + movie.path)
    expect_offline_page(page)
    assert NOTE not in page.content()
    expect(page.locator("#kept-pages")).to_be_hidden()
    page.context.set_offline(False)


@pytest.mark.parametrize("first", ["offline", "online"])
def test_copies_are_not_shown_once_their_session_has_expired(
    first, visit, live_server, catalog, ada, settings
):
    """Ada closes the laptop without signing out; her session expires; the next person opens
    Shelf, without a network or with one, and sees nothing of hers."""
    settings.SESSION_COOKIE_AGE = SESSION_AGE
    base = live_server.url
    page = visit(js=True).page
    movie = catalog["spirited"]
    page.goto(base + "/")
    wait_for_worker(page)
    sign_in(page, base, ada, "/saved/")
    key, ends = keep_two_pages(page, base, movie)
    assert ends - time.time() > 4, "the session nearly ended before the test could look offline"

    # Before it ends her copies are there offline, note included: what follows is the session.
    page.context.set_offline(True)
    go(page, base + movie.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(movie.title)
    assert NOTE in page.content()
    page.context.set_offline(False)

    page.wait_for_timeout(max(0.0, ends + 1 - time.time()) * 1000)

    if first == "online":
        # The server answers as nobody: the page comes from it, and her copies go.
        go(page, base + movie.path)
        assert person_key(page) == "anonymous"
        expect(signed_out(page)).to_be_visible()
        assert NOTE not in page.content()
        expect_none_kept_for(page, key)

    page.context.set_offline(True)
    go(page, base + "/saved/")
    expect_offline_page(page)
    assert NOTE not in page.content()
    # Her copies are deleted, posters included; only a page drawn for nobody may be left.
    assert shelf_caches(page, key) == []
    kept = page.locator("#kept-pages").get_by_role("link")
    expect(kept).to_have_text([movie.title] if first == "online" else [])
    go(page, base + movie.path)
    assert NOTE not in page.content()
    if first == "offline":
        expect_offline_page(page)
    else:
        expect(signed_out(page)).to_be_visible()
    page.context.set_offline(False)
