"""Import a list and take it out again, in a real browser with JavaScript on and off: upload a
MyAnimeList file, watch it being matched, read the preview, skip what did not match, import,
find the titles on the dashboard, and export."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import PHONE, Visitor
from e2e.test_tracking import sign_in
from media import importing
from media.models import Anime, Import, SavedAnime
from tests.test_importing import anime_entry, mal_file

JS_MODES = [pytest.param(True, id="js-on"), pytest.param(False, id="js-off")]


@pytest.fixture
def listed(transactional_db) -> dict[str, Anime]:
    return {
        "bebop": Anime.objects.create(title="Cowboy Bebop", year=1998, episodes=26, mal_id=1),
        "trigun": Anime.objects.create(title="Trigun", year=1998, episodes=26, mal_id=6),
    }


@pytest.fixture
def queued(settings):
    """A queue that keeps tasks instead of running them: the test plays the worker, so the
    page is seen while the import is matched and while it is written."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def wait_for_state(page: Page, visitor: Visitor, url: str, text: str, js: bool) -> None:
    """The page moves on by itself: htmx polling with JavaScript, a meta refresh without."""
    expect(page.get_by_text(text)).to_be_visible()
    if js:
        polls = [r for r in visitor.traffic.requests if r.url == url and r.method == "GET"]
        assert any(r.headers.get("hx-request") == "true" for r in polls)
    assert page.url == url


@pytest.mark.parametrize("js", JS_MODES)
def test_upload_preview_import_and_export(js, visit, live_server, member, listed, providers,
                                          queued):  # fmt: skip
    providers.down = True  # the unknown title cannot be looked up: it stays unmatched
    visitor: Visitor = visit(js=js, viewport=None if js else PHONE)
    page, base = visitor.page, live_server.url
    sign_in(page, base, member, "/import/")

    data = mal_file(
        anime_entry(1, "Cowboy Bebop", watched=26, status="Completed", score=9,
                    start="2019-03-01", finish="2019-04-02", times=1),
        anime_entry(6, "Trigun", watched=5, status="Watching"),
        anime_entry(424242, "A Show Nobody Knows", watched=2),
    )  # fmt: skip
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "animelist_1.xml", "mimeType": "application/xml", "buffer": data}]
    )
    page.get_by_role("button", name="Preview").click()
    imp = Import.objects.get(user=member)
    url = f"{base}/import/{imp.pk}/"
    expect(page).to_have_url(url)
    expect(page.get_by_text("Finding the titles…")).to_be_visible()
    expect(page.get_by_text("0 of 3 rows looked up")).to_be_visible()

    importing.match_import.call(imp.pk)  # the worker's turn
    wait_for_state(page, visitor, url, "What this import would do", js)
    preview = page.locator("#import-state")
    expect(preview.get_by_role("heading", name="New (2)")).to_be_visible()
    expect(preview.get_by_role("heading", name="Unmatched (1)")).to_be_visible()
    expect(preview.get_by_text("In the file: “A Show Nobody Knows”")).to_be_visible()
    assert not SavedAnime.objects.exists()  # a preview writes nothing

    preview.get_by_role("button", name="Skip A Show Nobody Knows").click()
    expect(page.get_by_role("heading", name="Skipped (1)")).to_be_visible()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Importing…")).to_be_visible()
    importing.apply_import.call(imp.pk, importing.KEEP)
    wait_for_state(page, visitor, url, "2 new, 0 updated, 0 unchanged", js)

    page.get_by_role("link", name="See your saved titles").click()
    expect(page).to_have_url(f"{base}/saved/")
    feed = page.locator("main")
    expect(feed.get_by_text("Cowboy Bebop").first).to_be_visible()
    expect(feed.get_by_text("Trigun").first).to_be_visible()
    bebop = SavedAnime.objects.get(user=member, anime=listed["bebop"])
    assert (bebop.status, bebop.episode_progress, bebop.score) == ("completed", 26, 9)
    assert bebop.created.date().isoformat() == "2019-03-01"

    page.goto(f"{base}/export/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Shelf JSON", exact=True).click()
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    titles = sorted(save["title"] for save in exported["saves"])
    assert titles == ["Cowboy Bebop", "Trigun"]
    with page.expect_download() as download:
        page.get_by_role("link", name="MyAnimeList XML (anime)", exact=True).click()
    xml = download.value.path().read_text(encoding="utf-8")
    assert "<series_animedb_id>1</series_animedb_id>" in xml
    visitor.traffic.settle(page)
