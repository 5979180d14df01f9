"""Editing one entry's tracking from the dashboard, with JavaScript on and off.

The dashboard does not render every entry's form: "Edit tracking" loads that entry's
form in place with htmx, or, without JavaScript, opens the item page with the form open
and brings the person back to the dashboard once it is saved.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.test_journey import JS_MODES, assert_same_document, dashboard_entry, mark_document
from e2e.test_tracking import sign_in, submit, tracking
from media.models import SavedAnime, Status


@pytest.mark.parametrize("js", JS_MODES)
def test_edit_tracking_from_the_dashboard(js, visit, live_server, catalog, member):
    base = live_server.url
    visitor = visit(js=js)
    page = visitor.page
    anime = catalog["bebop"]
    SavedAnime.objects.create(user=member, anime=anime.item, episode_progress=3)
    sign_in(page, base, member, "/saved/")

    panel = tracking(dashboard_entry(page, anime), anime)
    expect(panel.get_by_label("Episodes watched")).to_have_count(0)  # not rendered yet
    edit = panel.get_by_role("link", name=f"Edit tracking of {anime.title}", exact=True)
    if js:
        mark_document(page)
        with page.expect_response(lambda r: "/track/" in r.url) as answer:
            edit.click()
        assert answer.value.request.all_headers().get("hx-request") == "true"
        assert answer.value.status == 200
        visitor.traffic.settle(page)
        assert_same_document(page, f"{base}/saved/")
        # The pressed link's replacement, the form's summary, has the focus.
        expect(panel.locator("summary")).to_be_focused()
    else:
        edit.click()
        expect(page).to_have_url(
            f"{base}{anime.path}?edit=1&next=/saved/#tracking-anime-{anime.item.pk}"
        )
    panel = tracking(page, anime)
    episodes = panel.get_by_label("Episodes watched")
    expect(episodes).to_be_visible()
    expect(episodes).to_have_value("3")
    episodes.fill("5")
    panel.get_by_label("Score (1–10)").fill("8")
    update = panel.get_by_role("button", name="Update", exact=True)
    submit(visitor, update, anime, base, back_to="/saved/")

    row = anime.saved_rows(member).get()
    assert (row.episode_progress, row.score, row.status) == (5, 8, Status.IN_PROGRESS)
    entry_panel = tracking(dashboard_entry(page, anime), anime)
    expect(entry_panel.locator(".progress-text")).to_have_text("5 / 26 episodes")
    assert not visitor.traffic.problems, visitor.traffic.problems
