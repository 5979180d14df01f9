"""The headers every answer carries (Content-Security-Policy, Permissions-Policy and Django's
own), the cookies' flags, the CSP report endpoint, and templates that stay within the policy."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import path

from media.pwa import POSTER_HOSTS
from media.views import security
from project.urls import urlpatterns as site_urlpatterns
from tests.conftest import HTMX, save_url

ROOT = Path(__file__).resolve().parent.parent


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("test/broken/", broken), *site_urlpatterns]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice in {policy}"
        parsed[name] = sources
    return parsed


def assert_defended(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["manifest-src"] == ["'self'"]
    assert policy["report-uri"] == ["/csp-report/"]
    for sources in policy.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "https:"} & set(sources)
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_the_policy(client, auth_client, items):
    movie = items["movie"]
    for response in (
        client.get("/"),
        client.get("/accounts/login/"),
        client.get("/accounts/signup/"),
        client.get(movie.get_absolute_url()),
        auth_client.get("/saved/"),
        auth_client.get("/"),
    ):
        assert response.status_code == 200
        assert_defended(response)
        assert response["X-Frame-Options"] == "DENY"


def test_fragments_redirects_and_scripts_carry_the_policy(client, auth_client, kind, items):
    fragment = auth_client.post(save_url(kind, items[kind.key]), {"intent": "save"}, **HTMX)
    assert fragment.status_code == 200
    assert_defended(fragment)
    redirect = auth_client.post(save_url(kind, items[kind.key]), {"intent": "unsave"})
    assert redirect.status_code == 303
    assert_defended(redirect)
    # The service worker's policy is the one its script is served with: it fetches posters.
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert_defended(worker)
    for name in ("img-src", "connect-src"):
        assert set(POSTER_HOSTS) <= set(directives(worker)[name])


def test_errors_carry_the_policy(client, settings):
    settings.ROOT_URLCONF = __name__
    assert_defended(client.get("/no/such/page/"))
    broken_client = Client(raise_request_exception=False)
    response = broken_client.get("/test/broken/")
    assert response.status_code == 500
    assert_defended(response)
    forbidden = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})
    assert forbidden.status_code == 403
    assert_defended(forbidden)


def test_the_admin_carries_the_policy(client, db):
    from django.contrib.auth import get_user_model

    assert_defended(client.get("/admin/login/"))
    client.force_login(get_user_model().objects.create_superuser("root", password="x-root"))
    for url in ("/admin/", "/admin/media/movie/", "/admin/media/movie/add/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_defended(response)


def test_static_files_carry_the_policy(settings):
    # WhiteNoise answers before the views: it stands after the headers' middleware.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    for url in ("/static/css/shelf.css", "/static/icons/shelf.svg"):
        response = Client().get(url)
        assert response.status_code == 200, url
        assert_defended(response)


def test_a_tmdb_image_mirror_is_allowed_for_posters(client, settings, db):
    settings.TMDB_IMAGE_URL = "https://images.mirror.test/t/p"
    policy = directives(client.get("/"))
    assert "images.mirror.test" in policy["img-src"]
    assert "image.tmdb.org" in policy["img-src"]


def test_more_image_hosts_come_from_the_settings_and_nothing_else_does(client, settings, db):
    settings.SHELF_IMAGE_HOSTS = ["images.proxy.test:8443", "bad host; script-src *"]
    policy = directives(client.get("/"))
    assert "images.proxy.test:8443" in policy["img-src"]
    assert policy["script-src"] == ["'self'"]
    assert "script-src" not in " ".join(policy["img-src"])
    # And `manage.py check` says which entry is wrong.
    from media.security import check_image_hosts

    [error] = check_image_hosts(None)
    assert error.id == "shelf.E001"
    assert "bad host; script-src *" in error.msg


def test_under_https_insecure_requests_are_upgraded(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    assert "upgrade-insecure-requests" in directives(client.get("/", secure=True))
    # Even the redirect to HTTPS carries the policy.
    redirect = client.get("/")
    assert redirect.status_code == 301
    assert_defended(redirect)
    settings.SECURE_SSL_REDIRECT = False
    # On plain HTTP (a home network) it would send every request to a port nobody serves.
    assert "upgrade-insecure-requests" not in directives(Client().get("/"))


def test_cookies_are_httponly_and_lax(client, user):
    page = client.get("/accounts/login/")
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"
    signed_in = client.post(
        "/accounts/login/",
        {"username": "ada", "password": "correct horse battery"},
        REMOTE_ADDR="192.0.2.44",
    )
    assert signed_in.status_code == 302
    session = signed_in.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    # Secure only behind HTTPS: the settings tie it to SECURE_SSL_REDIRECT (check --deploy).
    assert not session["secure"]
    assert django_settings.SESSION_COOKIE_SECURE == django_settings.SECURE_SSL_REDIRECT
    assert django_settings.CSRF_COOKIE_SECURE == django_settings.SECURE_SSL_REDIRECT


def test_no_script_reads_the_csrf_cookie():
    # The cookie is HttpOnly, so a script that read it would break: each form carries a token.
    for script in (ROOT / "static" / "js").glob("*.js"):
        assert "csrftoken" not in script.read_text(), script
        assert "document.cookie" not in script.read_text(), script
    assert "document.cookie" not in (ROOT / "media" / "sw.js").read_text()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline script"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event handler attribute"),
    (re.compile(r"\shx-on", re.I), "hx-on (htmx runs it through Function)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_templates_have_nothing_the_policy_would_block():
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 10
    for template in templates:
        text = template.read_text()
        for pattern, what in INLINE:
            found = pattern.search(text)
            assert not found, f"{template.relative_to(ROOT)} has {what}: {found.group(0)!r}"


# The report endpoint.

REPORT = {
    "csp-report": {
        "document-uri": "http://testserver/saved/",
        "referrer": "",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "inline",
        "line-number": 12,
        "source-file": "http://testserver/saved/",
        "status-code": 200,
    }
}


def post_report(client, body, content_type="application/csp-report"):
    return client.post("/csp-report/", body, content_type=content_type)


def test_a_report_is_logged_and_answered_204(client, caplog):
    with caplog.at_level(logging.WARNING, logger="shelf.csp"):
        response = post_report(client, json.dumps(REPORT))
    assert response.status_code == 204
    assert_defended(response)
    [record] = [r for r in caplog.records if r.name == "shelf.csp"]
    message = record.getMessage()
    assert "'script-src-elem' blocked 'inline'" in message
    assert "'http://testserver/saved/'" in message


def test_a_reporting_api_batch_is_logged_too(client, caplog):
    batch = [
        {
            "type": "csp-violation",
            "url": "http://testserver/",
            "body": {
                "documentURL": "http://testserver/",
                "effectiveDirective": "img-src",
                "blockedURL": "https://elsewhere.test/x.png",
            },
        },
        {"type": "deprecation", "body": {"id": "x"}},
    ]
    with caplog.at_level(logging.WARNING, logger="shelf.csp"):
        response = post_report(client, json.dumps(batch), "application/reports+json")
    assert response.status_code == 204
    messages = [r.getMessage() for r in caplog.records if r.name == "shelf.csp"]
    assert len(messages) == 1
    assert "'img-src' blocked 'https://elsewhere.test/x.png'" in messages[0]


def test_a_report_needs_no_csrf_token_nor_an_account():
    response = post_report(Client(enforce_csrf_checks=True), json.dumps(REPORT))
    assert response.status_code == 204


def test_a_report_cannot_write_lines_into_the_log(client, caplog):
    forged = {"csp-report": {**REPORT["csp-report"], "blocked-uri": "x\nFAKE: admin signed in"}}
    with caplog.at_level(logging.WARNING, logger="shelf.csp"):
        post_report(client, json.dumps(forged))
    [record] = [r for r in caplog.records if r.name == "shelf.csp"]
    assert "\n" not in record.getMessage()


def test_a_flood_of_reports_is_logged_only_up_to_a_budget(client, caplog, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(security, "BUDGET", security.LogBudget(3, clock=lambda: now[0]))

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "shelf.csp"]

    with caplog.at_level(logging.WARNING, logger="shelf.csp"):
        for _ in range(5):  # each still answered as received
            assert post_report(client, json.dumps(REPORT)).status_code == 204
        assert len(logged()) == 3
        now[0] = 59.9
        post_report(client, json.dumps(REPORT))
        assert len(logged()) == 3
        now[0] = 61.0  # a new minute: what was left out is said, and logging resumes
        post_report(client, json.dumps(REPORT))
    *_, said, resumed = logged()
    assert said == "CSP violations: 3 more were reported than the 3 a minute logged"
    assert "'script-src-elem' blocked 'inline'" in resumed
    assert len(logged()) == 5


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        ("[]", 400),
        ('{"csp-report": "x"}', 400),
        ("\xff\xfe", 400),
        (json.dumps({"csp-report": {"blocked-uri": "x" * 20_000}}), 413),
    ],
)
def test_anything_but_a_report_is_refused_plainly(client, body, status, caplog):
    with caplog.at_level(logging.WARNING, logger="shelf.csp"):
        response = post_report(client, body)
    assert response.status_code == status
    assert not [r for r in caplog.records if r.name == "shelf.csp"]


def test_reports_are_posted_only(client):
    assert client.get("/csp-report/").status_code == 405
