"""What the server tells the browser about offline copies beyond each page's owner: that they
must go at every sign-out, whichever view signs the person out, and when the session they were
drawn for ends."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model, logout
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from media.pwa import SESSION_ENDS_HEADER, SESSION_ENDS_KEY
from tests.conftest import HTMX

CLEARED = '"cache", "storage"'
PASSWORD = "correct horse battery"


@require_POST
def close_account(request: HttpRequest) -> HttpResponse:
    """Stands for any view of Shelf's that signs its person out (deleting an account does):
    it calls logout() and answers as it likes, with no header of its own."""
    logout(request)
    return HttpResponse("Closed.", content_type="text/plain")


def short_session(request: HttpRequest) -> HttpResponse:
    """Gives the session an expiry of its own, as a "keep me signed in" choice would."""
    request.session.set_expiry(300)
    return HttpResponse("Five minutes.", content_type="text/plain")


# Shelf's URLs plus the views above, for the tests marked with this module as their URLconf.
urlpatterns = [
    path("test/close-account/", close_account),
    path("test/short-session/", short_session),
    path("", include("project.urls")),
]


# Shelf's own Sign out: tests/test_pwa.py's test_sign_out_clears_site_data.
def test_the_admins_sign_out_clears_the_offline_copies(admin_client):
    assert admin_client.get("/admin/").status_code == 200
    response = admin_client.post("/admin/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert response["Clear-Site-Data"] == CLEARED
    assert admin_client.get("/admin/").status_code == 302  # signed out


@pytest.mark.urls(__name__)
def test_any_view_that_signs_out_clears_the_offline_copies(auth_client):
    response = auth_client.post("/test/close-account/")
    assert response.status_code == 200 and response.content == b"Closed."
    assert response["Clear-Site-Data"] == CLEARED
    assert auth_client.get("/saved/").status_code == 302  # signed out


def test_only_a_sign_out_clears_them(client, auth_client, items):
    assert "Clear-Site-Data" not in auth_client.get("/saved/")
    assert "Clear-Site-Data" not in client.get("/")
    assert "Clear-Site-Data" not in client.post("/accounts/login/", {"username": "x"})


@pytest.mark.parametrize("url", ["/accounts/logout/", "/admin/logout/"])
def test_a_sign_out_refused_for_its_csrf_token_clears_nothing(db, url):
    staff = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    refused = client.post(url)
    assert refused.status_code == 403
    assert "Clear-Site-Data" not in refused
    assert client.get("/admin/").status_code == 200  # still signed in


def stored_expiry(client: Client) -> int:
    """When the client's session row expires, in seconds since the epoch."""
    return int(Session.objects.get(session_key=client.session.session_key).expire_date.timestamp())


def sign_in(client: Client) -> HttpResponse:
    response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return response


def ends_of(response: HttpResponse) -> int:
    return int(response[SESSION_ENDS_HEADER])


def later(monkeypatch, delta: timedelta) -> None:
    """Move Django's clock (sessions compute their expiry from it) `delta` ahead."""
    now = timezone.now() + delta
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)


def test_a_signed_in_page_says_when_its_session_ends(client, user, items, settings):
    started = int(timezone.now().timestamp())
    sign_in(client)
    page = client.get("/saved/")
    ends = ends_of(page)
    assert re.fullmatch(r"\d+", page[SESSION_ENDS_HEADER])
    age = settings.SESSION_COOKIE_AGE
    assert started + age <= ends <= started + age + 5
    # It is the session's real end: its row (and its cookie) expire then, to the second.
    assert 0 <= stored_expiry(client) - ends <= 1
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == age
    assert ends_of(client.get(items["movie"].get_absolute_url())) == ends


def test_the_end_moves_only_when_the_session_is_saved(client, user, items, monkeypatch, settings):
    sign_in(client)
    ends = ends_of(client.get("/saved/"))
    stored = stored_expiry(client)

    # An hour later, pages that leave the session as it was: it still ends then.
    later(monkeypatch, timedelta(hours=1))
    assert ends_of(client.get("/saved/")) == ends
    assert ends_of(client.get("/")) == ends
    assert stored_expiry(client) == stored

    # Signing in again saves the session: it ends an hour later than it did.
    sign_in(client)
    moved = ends_of(client.get("/saved/"))
    assert moved - ends in range(3600 - 2, 3600 + 3)
    assert 0 <= stored_expiry(client) - moved <= 1


def test_the_end_follows_every_save_when_each_request_saves(
    client, user, items, monkeypatch, settings
):
    settings.SESSION_SAVE_EVERY_REQUEST = True
    sign_in(client)
    ends = ends_of(client.get("/saved/"))
    later(monkeypatch, timedelta(minutes=10))
    moved = ends_of(client.get("/saved/"))
    assert moved - ends in range(600 - 2, 600 + 3)
    assert 0 <= stored_expiry(client) - moved <= 1


@pytest.mark.urls(__name__)
def test_a_session_with_its_own_expiry_says_so(auth_client, user, items):
    assert auth_client.get("/test/short-session/").status_code == 200
    ends = ends_of(auth_client.get("/saved/"))
    assert abs(ends - (int(timezone.now().timestamp()) + 300)) <= 3
    assert 0 <= stored_expiry(auth_client) - ends <= 1


def test_a_sign_in_keeps_the_end_from_its_first_save(client, user):
    """Even a session saved outside a request (the test client's force_login) has it."""
    client.force_login(user)
    assert 0 <= stored_expiry(client) - client.session[SESSION_ENDS_KEY] <= 1


def test_a_session_from_before_gets_its_end_on_its_first_page(auth_client, user, items):
    """A session saved without the end (one made before Shelf kept it) gets it on its first
    page, and is saved with it, so the two agree."""
    session = auth_client.session
    del session[SESSION_ENDS_KEY]
    session.save()
    ends = ends_of(auth_client.get("/saved/"))
    assert auth_client.session[SESSION_ENDS_KEY] == ends
    assert 0 <= stored_expiry(auth_client) - ends <= 1


def test_what_does_not_say_when_a_session_ends(client, auth_client, items, settings):
    anonymous = client.get("/")
    assert SESSION_ENDS_HEADER not in anonymous
    assert settings.SESSION_COOKIE_NAME not in client.cookies  # no session made for it
    # The worker keeps pages only: fragments, the manifest and the worker's script say nothing.
    fragment = auth_client.get("/saved/", **HTMX)
    assert fragment.status_code == 200 and SESSION_ENDS_HEADER not in fragment
    assert SESSION_ENDS_HEADER not in auth_client.get("/manifest.webmanifest")
    assert SESSION_ENDS_HEADER not in auth_client.get("/sw.js")


def test_the_worker_is_told_which_headers_to_read(client, db):
    script = client.get("/sw.js").content.decode()
    config = json.loads(re.search(r"^const CONFIG = (\{.*\});$", script, re.M).group(1))
    assert config["endsHeader"] == SESSION_ENDS_HEADER
    assert config["keyHeader"] == "Shelf-Cache-Key"
    assert config["anonymousKey"] == "anonymous"
