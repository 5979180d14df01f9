"""The Content-Security-Policy in a real Chromium: a page that breaks it is caught (so the
`csp` fixture, which fails every browser test on a violation, is known to work, JavaScript on
and off), and the admin, whose pages the rest of the suite does not visit, breaks nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.urls import path
from playwright.sync_api import expect

from e2e.conftest import PASSWORD, CspViolations
from e2e.test_journey import JS_MODES
from media.models import Movie
from project.urls import urlpatterns as site_urlpatterns

BROKEN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Within the policy</title>
<style>p { color: red; }</style></head>
<body><p style="font-weight: bold">Inline code, which the policy refuses.</p>
<script>document.title = "Inline script ran";</script></body></html>"""


def breaks_the_policy(request):
    # Served by the site itself, through its middleware: the real policy applies.
    return HttpResponse(BROKEN_PAGE)


urlpatterns = [path("test/breaks-the-policy/", breaks_the_policy), *site_urlpatterns]


@pytest.mark.parametrize("js", JS_MODES)
def test_a_violation_is_caught(js, visit, live_server, settings, csp: CspViolations):
    settings.ROOT_URLCONF = __name__
    visitor = visit(js=js)
    page = visitor.page
    page.goto(f"{live_server.url}/test/breaks-the-policy/")
    # The <style> element and the style attribute, and with JavaScript on the script too.
    expected = {"style-src-elem", "style-src-attr"} | ({"script-src-elem"} if js else set())
    reports = csp.take(len(expected))
    assert {report.split("'")[1] for report in reports} == expected, reports
    assert all("/test/breaks-the-policy/" in report for report in reports), reports
    # Nothing of it ran or applied.
    expect(page).to_have_title("Within the policy")
    weight = page.locator("p").evaluate("p => getComputedStyle(p).fontWeight")
    assert weight == "400"


def test_the_admin_works_within_the_policy(visit, live_server, transactional_db):
    movie = Movie.objects.create(title="Spirited Away", year=2001, runtime_minutes=125)
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    base = live_server.url
    visitor = visit(js=True)
    page = visitor.page
    page.goto(f"{base}/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    for url in (
        "/admin/media/movie/",
        "/admin/media/movie/add/",
        f"/admin/media/movie/{movie.pk}/change/",
        "/admin/axes/accessattempt/",
        "/admin/auth/user/",
    ):
        response = page.goto(base + url)
        assert response.status == 200, url
    # The admin's own scripts ran: its theme switch and its changelist filter are live.
    page.goto(f"{base}/admin/media/movie/")
    page.locator("button.theme-toggle").first.click()
    assert page.evaluate("document.documentElement.dataset.theme") in {"light", "dark", "auto"}
    # Editing through the admin's form works (its scripts, its form-action).
    page.goto(f"{base}/admin/media/movie/{movie.pk}/change/")
    page.locator("#id_title").fill("Spirited Away (2001)")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    movie.refresh_from_db()
    assert movie.title == "Spirited Away (2001)"
    visitor.traffic.settle(page)
    assert not visitor.traffic.problems, visitor.traffic.problems
