"""Shelf's error pages: one template (error.html) whose blocks each page fills, drawn even
when Django gives them nothing (the 500 page has no request and no context)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path

from project.urls import urlpatterns as site_urlpatterns


def broken(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("odd input")


# The site, plus views that fail: Django answers each failure with its error page.
urlpatterns = [
    path("test/broken/", broken),
    path("test/forbidden/", forbidden),
    path("test/suspicious/", suspicious),
    *site_urlpatterns,
]

PAGES = {
    400: ("Bad request", "Bad request", "The request could not be understood."),
    403: ("Not allowed", "Not allowed", "You are not allowed to do that."),
    404: (
        "Not found",
        "Not found",
        "There is nothing at this address. It may have been removed, or the link is wrong.",
    ),
    500: (
        "Something went wrong",
        "Something went wrong",
        "Shelf could not finish that request. Nothing you saved was lost; please try again "
        "in a moment.",
    ),
}


def assert_error_page(html: str, title: str, heading: str, message: str) -> None:
    assert f"<title>{title} · Shelf</title>" in html
    assert f"<h1>{heading}</h1>" in html
    assert f"<p>{message}</p>" in html
    assert '<a href="/">Back to the home page</a>' in html


def test_500_page_renders_with_no_request_and_no_context():
    html = render_to_string("500.html")
    assert_error_page(html, *PAGES[500])
    assert "/static/css/shelf.css" in html  # the site's own look, from base.html
    # Nobody is known to be signed in or out: the header offers neither.
    assert "Sign in" not in html and "Sign out" not in html


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/test/suspicious/", 400),
        ("/test/forbidden/", 403),
        ("/no-such-page/", 404),
        ("/test/broken/", 500),
    ],
)
def test_a_failing_view_gets_shelfs_error_page(db, settings, url, status):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.get(url)
    assert response.status_code == status
    assert_error_page(response.content.decode(), *PAGES[status])


def test_expired_form_page(user, items):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"/save/movie/{items['movie'].pk}/", {"intent": "save"})
    assert response.status_code == 403
    assert_error_page(
        response.content.decode(),
        "Form expired",
        "This form has expired",
        "For your security, forms only work with a fresh page. Go back, reload the page and "
        "try again; nothing was changed.",
    )


def test_a_view_rendering_error_html_gives_its_own_words(auth_client, items):
    response = auth_client.post(f"/save/movie/{items['movie'].pk}/", {"intent": "toggle"})
    assert response.status_code == 400
    assert_error_page(
        response.content.decode(),
        "Bad request",
        "Bad request",
        "The form said neither save, unsave nor undo.",
    )
