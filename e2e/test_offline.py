"""Shelf offline, in a real Chromium with JavaScript on: the service worker (/sw.js) keeps the
pages a person opened, shows them when the network is gone, keeps a Save pressed offline
until the connection returns, and forgets everything at sign-out.

Service workers never run with JavaScript off, so there is no JavaScript-off twin here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Response, Route, expect

from e2e.conftest import Entry, wait_until
from e2e.test_journey import dashboard_entry, press, save_button, sign_up, unsave_button
from media.models import SavedManga

# Cache Storage as {cache name: [URL, ...]}, read from the page.
CACHES = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    out[name] = (await (await caches.open(name)).keys()).map((request) => request.url);
  }
  return out;
}"""
# The presses kept in IndexedDB for later, as [{url, intent}, ...].
KEPT_PRESSES = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("shelf-offline", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("presses", {keyPath: "id"});
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const all = db.transaction("presses").objectStore("presses").getAll();
    all.onsuccess = () => {
      db.close();
      resolve(all.result.map((r) => ({url: r.url, intent: r.intent})));
    };
  };
})"""
PAGES = "shelf-pages-"
QUEUE = "shelf-offline"


def wait_for_worker(page: Page) -> None:
    """Wait until the service worker has taken control of the page."""
    wait_until(page, "navigator.serviceWorker.controller !== null")


def page_caches(page: Page) -> dict[str, list[str]]:
    return {name: urls for name, urls in page.evaluate(CACHES).items() if name.startswith(PAGES)}


def databases(page: Page) -> list[str]:
    return page.evaluate("indexedDB.databases().then(all => all.map(db => db.name))")


def person_key(page: Page) -> str:
    return page.locator('meta[name="shelf-cache-key"]').get_attribute("content")


def go(page: Page, url: str) -> Response:
    """Navigate; the service worker answers (from the network or from its caches)."""
    response = page.goto(url)
    assert response is not None
    assert response.from_service_worker, f"{url} did not go through the service worker"
    return response


def version(page: Page) -> str:
    """The service worker's version, from the name of its static cache."""
    names = [name for name in page.evaluate("caches.keys()") if name.startswith("shelf-static-")]
    assert len(names) == 1, names
    return names[0].removeprefix("shelf-static-")


def expect_offline_page(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    expect(page.get_by_role("link", name="saved list")).to_have_attribute("href", "/saved/")


def page_errors(visitor) -> list[str]:
    return [p for p in visitor.traffic.problems if p.startswith("page error")]


def test_worker_controls_the_site_and_keeps_pages_for_offline(visit, live_server, catalog):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    movie, manga = catalog["spirited"], catalog["akira"]
    sign_up(page, base, "ada")

    wait_for_worker(page)
    registration = page.evaluate(
        "navigator.serviceWorker.getRegistration().then(r => [r.scope, r.active.scriptURL])"
    )
    assert registration == [base + "/", base + "/sw.js"]

    go(page, base + movie.path)
    press(visitor, save_button(page), movie, base, back_to=movie.path)  # htmx ran
    go(page, base + "/saved/")
    expect(dashboard_entry(page, movie)).to_be_visible()
    key = person_key(page)
    assert page_caches(page) == {
        f"{PAGES}{version(page)}-{key}": [base + movie.path, base + "/saved/"]
    }

    page.context.set_offline(True)
    assert page.evaluate("navigator.onLine") is False
    go(page, base + movie.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(movie.title)
    go(page, base + "/saved/")
    expect(dashboard_entry(page, movie)).to_be_visible()

    # Never opened: the offline page, at the address asked for, listing what was kept.
    go(page, base + manga.path)
    assert page.url == base + manga.path
    expect_offline_page(page)
    expect(page.locator("#kept-pages").get_by_role("link")).to_have_text([movie.title, "Saved"])

    # A POST is never answered from a cache: offline, it fails.
    outcome = page.evaluate(
        """url => fetch(url, {method: "POST", body: new URLSearchParams({intent: "save"})})
            .then(response => "answered " + response.status, () => "failed")""",
        base + manga.save_path,
    )
    assert outcome == "failed"
    page.context.set_offline(False)
    assert not page_errors(visitor), visitor.traffic.problems


def test_save_pressed_offline_is_pending_then_sent_once(visit, live_server, catalog):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    anime: Entry = catalog["bebop"]
    user = sign_up(page, base, "ada")
    wait_for_worker(page)
    go(page, base + anime.path)

    page.context.set_offline(True)
    go(page, base + anime.path)  # the kept copy
    visitor.traffic.clear()
    button = save_button(page)
    button.click()
    pending = page.get_by_role("button", name="Pending… saved offline")
    expect(pending).to_be_visible()
    expect(pending).to_be_focused()
    expect(page.locator("#announcer")).to_have_text(
        f"Saved {anime.title} offline: will sync when you're back online"
    )
    page.keyboard.press("Enter")  # pressing again while pending sends nothing more
    expect(page.locator("#announcer")).to_have_text(f"Still waiting to sync {anime.title}.")
    assert page.evaluate(KEPT_PRESSES) == [{"url": anime.save_path, "intent": "save"}]
    assert not visitor.traffic.posts(), visitor.traffic.posts()
    assert anime.saved_rows(user).count() == 0

    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == base + anime.save_path
    ) as answer:
        page.context.set_offline(False)  # the "online" event sends what was kept
    assert answer.value.status == 200
    assert answer.value.request.all_headers().get("hx-request") == "true"
    expect(unsave_button(page)).to_be_visible()
    expect(unsave_button(page)).to_be_focused()
    expect(page.locator("#announcer")).to_have_text(f"Saved “{anime.title}”.")
    # The tracking panel loads itself, as after an online Save.
    expect(page.get_by_role("region", name=f"Tracking {anime.title}")).to_be_visible()
    assert anime.saved_rows(user).count() == 1
    assert page.evaluate(KEPT_PRESSES) == []
    assert len(visitor.traffic.posts(anime.save_path)) == 1
    assert not page_errors(visitor), visitor.traffic.problems


def test_press_kept_offline_is_sent_by_the_next_page(visit, live_server, catalog):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    manga: Entry = catalog["akira"]
    user = sign_up(page, base, "ada")
    SavedManga.objects.create(user=user, manga=manga.item)
    wait_for_worker(page)
    go(page, base + manga.path)
    go(page, base + "/saved/")

    page.context.set_offline(True)
    # Chromium applies the offline emulation to a new document a moment late: the press must
    # not reach the server by that gap, so its URL is cut off too while "offline".
    page.context.route(base + manga.save_path, lambda route: route.abort("internetdisconnected"))
    row = dashboard_entry(page, manga)
    unsave_button(row).click()
    expect(row.get_by_role("button", name="Pending… removed offline")).to_be_visible()
    expect(page.locator("#announcer")).to_have_text(
        f"Removed {manga.title} offline: will sync when you're back online"
    )
    # Another page, still offline, shows the press as pending too.
    go(page, base + manga.path)
    expect(page.get_by_role("button", name="Pending… removed offline")).to_be_visible()
    page.close()
    assert manga.saved_rows(user).count() == 1

    later = visitor.page.context.new_page()
    later.context.unroute(base + manga.save_path)
    later.context.set_offline(False)
    with later.expect_response(
        lambda r: r.request.method == "POST" and r.url == base + manga.save_path
    ) as answer:
        go(later, base + manga.path)
    assert answer.value.status == 200
    expect(save_button(later)).to_be_visible()
    assert manga.saved_rows(user).count() == 0
    assert later.evaluate(KEPT_PRESSES) == []


def signed_out_quietly(route: Route) -> None:
    """Sign out on the server, but answer 204 without Clear-Site-Data: a browser that ignores
    the header, and no navigation that would make the worker drop the copies itself."""
    route.fetch(max_redirects=0)
    route.fulfill(status=204)


@pytest.mark.parametrize("clear_site_data", [True, False], ids=["header", "script-only"])
def test_sign_out_deletes_the_offline_copies(clear_site_data, visit, live_server, catalog):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    movie = catalog["spirited"]
    sign_up(page, base, "ada")
    wait_for_worker(page)
    go(page, base + movie.path)
    go(page, base + "/saved/")
    key = person_key(page)
    assert [urls for name, urls in page_caches(page).items() if name.endswith(key)] == [
        [base + movie.path, base + "/saved/"]
    ]
    assert QUEUE in databases(page)  # offline-queue.js opened its queue for this person

    if clear_site_data:
        with page.expect_response(base + "/accounts/logout/") as answer:
            page.get_by_role("button", name="Sign out").click()
        assert answer.value.all_headers().get("clear-site-data") == '"cache", "storage"'
    else:
        page.route(base + "/accounts/logout/", signed_out_quietly)
        page.get_by_role("button", name="Sign out").click()
        # Only service-worker-registration.js, telling the worker at Sign out, can have done this.
        for _ in range(50):
            mine = [name for name in page_caches(page) if name.endswith(key)]
            if not mine and QUEUE not in databases(page):
                break
            page.wait_for_timeout(100)
        else:
            pytest.fail(f"the page copies are still there: {page_caches(page)}")
        assert page.url == base + "/saved/"
        go(page, base + "/")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    wait_for_worker(page)  # registered again after Clear-Site-Data, or still there

    assert QUEUE not in databases(page)
    kept_urls = [url for urls in page_caches(page).values() for url in urls]
    assert not [name for name in page_caches(page) if name.endswith(key)]
    assert base + movie.path not in kept_urls and base + "/saved/" not in kept_urls
    if clear_site_data:
        assert page_caches(page) == {}

    page.context.set_offline(True)
    go(page, base + movie.path)
    expect_offline_page(page)
    expect(page.locator("#kept-pages").get_by_role("link", name=movie.title)).to_have_count(0)
    page.context.set_offline(False)


def test_another_persons_copies_are_never_shown(visit, live_server, catalog):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    movie = catalog["spirited"]
    sign_up(page, base, "ada")
    wait_for_worker(page)
    go(page, base + movie.path)
    first_key = person_key(page)
    assert [name for name in page_caches(page) if name.endswith(first_key)]

    # Ada's session ends without a sign-out (cookies gone), and Grace signs up on the device.
    page.context.clear_cookies()
    sign_up(page, base, "grace")
    go(page, base + "/saved/")
    assert person_key(page) != first_key
    assert [name.endswith(person_key(page)) for name in page_caches(page)] == [True]

    page.context.set_offline(True)
    go(page, base + movie.path)
    expect_offline_page(page)
    expect(page.locator("#kept-pages").get_by_role("link")).to_have_text(["Saved"])
    page.context.set_offline(False)


def test_press_refused_when_sent_is_dropped_and_can_be_pressed_again(visit, live_server, catalog):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    movie: Entry = catalog["paprika"]
    user = sign_up(page, base, "ada")
    wait_for_worker(page)
    go(page, base + movie.path)
    page.context.set_offline(True)
    save_button(page).click()
    expect(page.get_by_role("button", name="Pending… saved offline")).to_be_visible()

    # The server refuses it (as it would a form from an older session).
    page.route(base + movie.save_path, lambda route: route.fulfill(status=403, body="no"))
    page.context.set_offline(False)
    retry = page.get_by_role("button", name="Not sent: try again")
    expect(retry).to_be_visible()
    expect(page.locator("#announcer")).to_have_text(
        f"Could not sync {movie.title}. Reload the page and try again."
    )
    assert page.evaluate(KEPT_PRESSES) == []
    assert movie.saved_rows(user).count() == 0

    page.unroute(base + movie.save_path)
    press(visitor, retry, movie, base, back_to=movie.path)
    expect(unsave_button(page)).to_be_visible()
    assert movie.saved_rows(user).count() == 1
