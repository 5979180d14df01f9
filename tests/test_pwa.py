"""Shelf as an installable app: the manifest, the service worker script, the offline page, and
what pages and sign-out tell the browser about offline copies."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from media.kinds import KINDS
from media.pwa import SERVICE_WORKER, cache_key
from tests.conftest import HTMX, save_url

ROOT = Path(__file__).resolve().parent.parent
STYLESHEET = (ROOT / "static" / "css" / "shelf.css").read_text()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The scripts of every page, in the order they run (the offline page adds offline-page.js).
PAGE_SCRIPTS = [
    "vendor/htmx-4.0.1.min.js",
    "js/announce.js",
    "js/htmx-feedback.js",
    "js/offline-queue.js",
    "js/service-worker-registration.js",
]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, the first after the signature."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


def css_variable(name: str, *, dark: bool) -> str:
    """A colour variable of the stylesheet's light (:root) or dark theme."""
    block = STYLESHEET.split("@media (prefers-color-scheme: dark)")[1 if dark else 0]
    match = re.search(rf"{name}:\s*(#[0-9a-fA-F]{{3,8}})", block)
    assert match, f"{name} is not in the stylesheet"
    return match.group(1).lower()


def head_tags(html: str, tag: str) -> list[dict[str, str]]:
    """The attributes of each `<tag ...>` in the page."""
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        for attrs in re.findall(rf"<{tag}\s([^>]*)>", html)
    ]


def test_manifest_is_served_as_a_web_app_manifest(client, db):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Shelf"
    assert manifest["short_name"] == "Shelf"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == css_variable("--surface", dark=False)
    assert manifest["background_color"] == css_variable("--bg", dark=False)


def test_manifest_icons_exist_at_their_declared_sizes(client, db):
    icons = json.loads(client.get("/manifest.webmanifest").content)["icons"]
    declared = set()
    for icon in icons:
        assert icon["type"] == "image/png"
        assert icon["src"].startswith("/static/icons/")
        path = ROOT / "static" / icon["src"].removeprefix("/static/")
        width, height = png_size(path)
        assert icon["sizes"] == f"{width}x{height}"
        declared.add((icon["sizes"], icon.get("purpose", "any")))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= declared


@pytest.mark.parametrize(
    "path", ["/", "/movies/", "/saved/", "/accounts/login/", "/offline/", "/no-such-page/"]
)
def test_every_page_links_the_manifest_and_icons(auth_client, items, path):
    html = auth_client.get(path).content.decode()
    links = {link["rel"]: link["href"] for link in head_tags(html, "link")}
    assert links["manifest"] == "/manifest.webmanifest"
    assert links["apple-touch-icon"] == "/static/icons/apple-touch-icon.png"
    assert png_size(ROOT / "static" / "icons" / "apple-touch-icon.png") == (180, 180)
    themes = {
        meta["media"]: meta["content"]
        for meta in head_tags(html, "meta")
        if meta.get("name") == "theme-color"
    }
    assert themes == {
        "(prefers-color-scheme: light)": css_variable("--surface", dark=False),
        "(prefers-color-scheme: dark)": css_variable("--surface", dark=True),
    }


@pytest.mark.parametrize("path", ["/", "/saved/", "/accounts/login/", "/offline/", "/nowhere/"])
def test_every_page_runs_shelfs_scripts_deferred_in_order(auth_client, items, path):
    html = auth_client.get(path).content.decode()
    tags = re.findall(r"<script\s[^>]*>", html)
    expected = PAGE_SCRIPTS + (["js/offline-page.js"] if path == "/offline/" else [])
    assert [re.search(r'src="/static/([^"]+)"', tag).group(1) for tag in tags] == expected
    # Deferred classic scripts run in document order, after parsing: each finds window.Shelf.
    assert all(re.search(r"\sdefer[\s>]", tag) for tag in tags), tags
    assert not [tag for tag in tags if "async" in tag or "module" in tag]
    registration = next(
        tag for tag in head_tags(html, "script") if tag["src"].endswith("-registration.js")
    )
    assert registration["data-service-worker"] == "/sw.js"
    assert registration["data-sign-out"] == "/accounts/logout/"


def test_every_script_of_shelfs_own_is_on_a_page(client, db):
    """No script file is left behind: each is in a page, and precached for offline use."""
    on_pages = set(PAGE_SCRIPTS) | {"js/offline-page.js"}
    assert {f"js/{path.name}" for path in (ROOT / "static" / "js").glob("*.js")} == (
        on_pages - {"vendor/htmx-4.0.1.min.js"}
    )
    assert {f"/static/{name}" for name in on_pages} <= set(worker_config(client)["precache"])


def test_service_worker_is_served_from_the_root_uncached(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "text/javascript"
    assert response["Cache-Control"] == "no-cache"
    # At /sw.js its default scope is already "/"; the header allows it explicitly.
    assert response["Service-Worker-Allowed"] == "/"
    assert client.post("/sw.js").status_code == 405


def worker_config(client: Client) -> dict:
    script = client.get("/sw.js").content.decode()
    return json.loads(re.search(r"^const CONFIG = (\{.*\});$", script, re.M).group(1))


def test_service_worker_is_its_plain_source_after_one_line_of_config(client, db):
    source = SERVICE_WORKER.read_text()
    assert "{{" not in source and "{%" not in source  # no template: any JavaScript tool reads it
    script = client.get("/sw.js").content.decode()
    config = json.dumps(worker_config(client))
    assert script == f'"use strict";\nconst CONFIG = {config};\n\n{source}'


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js to parse JavaScript")
def test_service_worker_as_served_is_valid_javascript(client, db, tmp_path):
    served = tmp_path / "sw.js"
    served.write_bytes(client.get("/sw.js").content)
    result = subprocess.run(["node", "--check", served], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_service_worker_version_follows_its_own_source(client, db, monkeypatch, tmp_path):
    copy = tmp_path / "sw.js"
    shutil.copy(SERVICE_WORKER, copy)
    monkeypatch.setattr("media.pwa.SERVICE_WORKER", copy)
    first = worker_config(client)["version"]
    assert worker_config(client)["version"] == first
    copy.write_text(copy.read_text() + "// a fix\n")
    assert worker_config(client)["version"] != first
    assert client.get("/sw.js").content.decode().endswith("// a fix\n")


def test_service_worker_precaches_shelfs_static_files_and_the_offline_page(client, db):
    config = worker_config(client)
    assert config["offlineUrl"] == "/offline/"
    assert {
        "/static/css/shelf.css",
        *(f"/static/{name}" for name in PAGE_SCRIPTS),
        "/static/js/offline-page.js",
        "/static/icons/shelf-192.png",
    } <= set(config["precache"])
    assert not [url for url in config["precache"] if url.startswith("/static/admin/")]
    for url in config["precache"]:
        assert finders.find(url.removeprefix("/static/")), url


def hashed_storage(settings, tmp_path: Path, manifest: dict[str, str]) -> None:
    """Switch to the production storage, with a staticfiles.json as collectstatic writes."""
    (tmp_path / "staticfiles.json").write_text(
        json.dumps({"paths": manifest, "version": "1.1", "hash": "x"})
    )
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }


def test_service_worker_version_follows_the_static_manifest(client, db, settings, tmp_path):
    names = [
        "css/shelf.css",
        *PAGE_SCRIPTS,
        "js/offline-page.js",
        "icons/shelf.svg",
        "icons/apple-touch-icon.png",
        *(f"icons/shelf-{m}{s}.png" for m in ("", "maskable-") for s in (192, 512)),
    ]
    manifest = {name: name.replace(".", ".0123456789ab.", 1) for name in names}
    hashed_storage(settings, tmp_path, manifest)
    first = worker_config(client)
    assert "/static/css/shelf.0123456789ab.css" in first["precache"]

    manifest["css/shelf.css"] = "css/shelf.ba9876543210.css"
    hashed_storage(settings, tmp_path, manifest)
    second = worker_config(client)
    assert "/static/css/shelf.ba9876543210.css" in second["precache"]
    assert second["version"] != first["version"]

    hashed_storage(settings, tmp_path, manifest)
    assert worker_config(client)["version"] == second["version"]


def test_service_worker_version_follows_file_bytes_without_a_manifest(
    client, db, settings, tmp_path
):
    copy = shutil.copytree(ROOT / "static", tmp_path / "static")
    settings.STATICFILES_DIRS = [copy]
    first = worker_config(client)["version"]
    assert worker_config(client)["version"] == first
    (copy / "js" / "offline-queue.js").write_text("// another build\n")
    assert worker_config(client)["version"] != first


def test_offline_page_renders_for_nobody_in_particular(auth_client, user):
    response = auth_client.get("/offline/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="offline-title">You are offline</h1>' in html
    assert 'href="/saved/"' in html and 'href="/"' in html
    # It is precached once and shown to whoever uses the device: nothing of this person.
    assert user.get_username() not in html
    assert "Sign out" not in html and "csrfmiddlewaretoken" not in html
    assert '<meta name="shelf-cache-key" content="">' in html


def test_offline_page_leaves_messages_for_the_next_page(auth_client, items):
    auth_client.post(save_url(KINDS["movie"], items["movie"]), {"intent": "save"})
    assert "Saved “Spirited Away”." not in auth_client.get("/offline/").content.decode()
    assert "Saved “Spirited Away”." in auth_client.get("/").content.decode()


def test_pages_name_their_person_with_an_opaque_key(client, auth_client, user, other_user, items):
    anonymous = client.get("/")
    assert anonymous["Shelf-Cache-Key"] == "anonymous"
    assert '<meta name="shelf-cache-key" content="anonymous">' in anonymous.content.decode()

    signed_in = auth_client.get("/saved/")
    key = signed_in["Shelf-Cache-Key"]
    assert key == cache_key(user) and re.fullmatch(r"[0-9a-f]{32}", key)
    assert f'<meta name="shelf-cache-key" content="{key}">' in signed_in.content.decode()
    assert str(user.pk) != key and user.get_username() not in key
    assert auth_client.get(items["movie"].get_absolute_url())["Shelf-Cache-Key"] == key
    assert cache_key(other_user) != key


def test_signed_in_pages_stay_out_of_shared_caches(client, auth_client, items):
    for path in ("/", "/saved/", items["anime"].get_absolute_url()):
        assert "private" in auth_client.get(path)["Cache-Control"]
    assert "private" not in client.get("/").get("Cache-Control", "")


def test_sign_out_clears_site_data(auth_client):
    response = auth_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert auth_client.get("/saved/").status_code == 302  # signed out


def test_sign_out_still_needs_post_and_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    refused = client.post("/accounts/logout/")
    assert refused.status_code == 403
    assert "Clear-Site-Data" not in refused
    assert client.get("/saved/").status_code == 200  # still signed in


def test_pages_without_javascript_are_unchanged(auth_client, items):
    """The service worker is only a script's doing: forms still post and redirect."""
    movie = items["movie"]
    html = auth_client.get(movie.get_absolute_url()).content.decode()
    assert f'<form class="save-form" method="post" action="/save/movie/{movie.pk}/"' in html
    url = save_url(KINDS["movie"], movie)
    response = auth_client.post(url, {"intent": "save", "next": "/saved/"})
    assert response.status_code == 303 and response["Location"] == "/saved/"
    assert "Spirited Away" in auth_client.get("/saved/").content.decode()
    htmx = auth_client.post(url, {"intent": "save"}, **HTMX)
    assert htmx.status_code == 200 and ">Unsave</button>" in htmx.content.decode()


def test_only_save_forms_are_kept_offline_and_say_what_they_do(auth_client, items):
    """offline-queue.js acts on forms marked data-offline-queue, whose buttons say what a
    press does (data-done); tracking edits need the network."""
    movie = items["movie"]
    url = save_url(KINDS["movie"], movie)
    done = r'name="intent" value="(\w+)" data-done="([\w ]+)"'
    page = auth_client.get(movie.get_absolute_url()).content.decode()
    assert page.count("data-offline-queue") == 1
    assert re.findall(done, page) == [("save", "saved")]
    answer = auth_client.post(url, {"intent": "save"}, **HTMX).content.decode()
    assert re.findall(done, answer) == [("unsave", "removed")]
    answer = auth_client.post(url, {"intent": "unsave"}, **HTMX).content.decode()
    assert re.findall(done, answer) == [("save", "saved"), ("undo", "put back")]
    page = auth_client.get(movie.get_absolute_url()).content.decode()
    assert 'class="track-form' not in page  # unsaved: no panel
    auth_client.post(url, {"intent": "save"}, **HTMX)
    page = auth_client.get(movie.get_absolute_url()).content.decode()
    assert 'class="track-form' in page and page.count("data-offline-queue") == 1
