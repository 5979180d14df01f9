"""Unsave is undoable in a real browser: every tracked field comes back, with JavaScript on
(the Undo in the swapped fragment, or in the live region's toast, or pressed offline and sent
later) and off (the Undo on the page the redirect lands on)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import Entry
from e2e.test_journey import JS_MODES, dashboard_entry, press, save_button, unsave_button
from e2e.test_offline import KEPT_PRESSES, go, wait_for_worker
from e2e.test_tracking import sign_in
from media.models import Status

SAVED_AT = datetime(2025, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
UPDATED_AT = datetime(2026, 1, 2, 3, 4, 5, 654321, tzinfo=UTC)


def tracked(entry: Entry, user) -> dict:
    """Save `entry` for `user` with every tracked field set; every column of the row."""
    model = entry.kind.saved_model
    saved = model.objects.create(user=user, **{entry.kind.item_field: entry.item})
    values = {"status": Status.ON_HOLD, "score": 7, "note": "Paused at the big reveal — 🎬"}
    for counter in model.counters:
        values[counter.field] = (getattr(entry.item, counter.total) or 10) // 2
    for name in model.tracking_fields:
        kind_of_field = model._meta.get_field(name).get_internal_type()
        if kind_of_field == "BooleanField":
            values[name] = True
        elif kind_of_field == "DateField":
            values[name] = date(2025, 6, 7)
    rows = model.objects.filter(pk=saved.pk)
    rows.update(**values)
    rows.update(created=SAVED_AT, updated=UPDATED_AT)
    return columns(entry, user)


def columns(entry: Entry, user) -> dict:
    row = entry.saved_rows(user).get()
    fields = entry.kind.saved_model._meta.concrete_fields
    return {field.attname: getattr(row, field.attname) for field in fields}


def undo_button(scope, entry: Entry):
    return scope.get_by_role("button", name=f"Undo removing {entry.title}", exact=True)


@pytest.mark.parametrize("js", JS_MODES)
def test_undo_on_the_dashboard_brings_back_every_tracked_field(
    visit, live_server, catalog, member, js
):
    base = live_server.url
    visitor = visit(js=js)
    page: Page = visitor.page
    anime: Entry = catalog["bebop"]
    before = tracked(anime, member)
    sign_in(page, base, member, "/saved/")
    row = dashboard_entry(page, anime)
    expect(row.get_by_text("13 / 26 episodes")).to_be_visible()

    press(visitor, unsave_button(row), anime, base, back_to="/saved/")
    assert not anime.saved_rows(member).exists()
    if js:
        # The fragment offers Undo beside Save, and so does the live region.
        expect(save_button(row)).to_be_visible()
        expect(undo_button(row, anime)).to_be_visible()
        toast = page.locator("#announcer")
        expect(toast).to_contain_text(f"Removed “{anime.title}”.")
        expect(undo_button(toast, anime)).to_be_visible()
        undo = undo_button(row, anime)
    else:
        message = page.get_by_role("status").filter(has_text="Removed")
        expect(message).to_contain_text(f"Removed “{anime.title}”.")
        undo = undo_button(message, anime)
    press(visitor, undo, anime, base, back_to="/saved/")

    assert columns(anime, member) == before  # id, times, status, progress, score, note
    row = dashboard_entry(page, anime)
    expect(unsave_button(row)).to_be_visible()
    if js:
        expect(page.locator("#announcer")).to_have_text(
            f"Put “{anime.title}” back on your shelf, as it was."
        )
        expect(row.get_by_text("13 / 26 episodes")).to_be_visible()  # the panel came back
        expect(unsave_button(row)).to_be_focused()
    else:
        expect(page.get_by_role("status").filter(has_text="Put")).to_contain_text(
            "back on your shelf, as it was"
        )
        expect(row.get_by_text("13 / 26 episodes")).to_be_visible()
    assert not visitor.traffic.problems, visitor.traffic.problems


def test_the_toasts_undo_on_an_item_page(visit, live_server, catalog, member):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    movie: Entry = catalog["spirited"]
    before = tracked(movie, member)
    sign_in(page, base, member, movie.path)
    press(visitor, unsave_button(page), movie, base, back_to=movie.path)
    expect(page.get_by_role("region", name=f"Tracking {movie.title}")).to_have_count(0)
    toast_undo = undo_button(page.locator("#announcer"), movie)
    press(visitor, toast_undo, movie, base, back_to=movie.path)
    assert columns(movie, member) == before
    expect(unsave_button(page)).to_be_visible()
    expect(page.get_by_role("switch", name="Watched")).to_have_attribute("aria-checked", "true")
    assert not visitor.traffic.problems, visitor.traffic.problems


def test_undo_pressed_offline_is_kept_and_sent_when_back_online(
    visit, live_server, catalog, member
):
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    manga: Entry = catalog["akira"]
    before = tracked(manga, member)
    sign_in(page, base, member, manga.path)
    wait_for_worker(page)
    go(page, base + manga.path)
    press(visitor, unsave_button(page), manga, base, back_to=manga.path)

    page.context.set_offline(True)
    undo_button(page.locator(".save-control"), manga).click()
    expect(page.get_by_role("button", name="Pending… put back offline")).to_be_visible()
    assert page.evaluate(KEPT_PRESSES) == [{"url": manga.save_path, "intent": "undo"}]
    assert not manga.saved_rows(member).exists()

    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == base + manga.save_path
    ) as answer:
        page.context.set_offline(False)
    assert answer.value.status == 200
    expect(unsave_button(page)).to_be_visible()
    expect(page.locator("#announcer")).to_have_text(
        f"Put “{manga.title}” back on your shelf, as it was."
    )
    assert columns(manga, member) == before
    assert page.evaluate(KEPT_PRESSES) == []
