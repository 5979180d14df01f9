"""What the service worker needs from the server: the static files to precache, a version
that changes with them, and an opaque per-person key that keeps offline copies apart."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from django.contrib.staticfiles.finders import FileSystemFinder
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.utils.cache import patch_cache_control
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject

CACHE_KEY_HEADER = "Shelf-Cache-Key"
ANONYMOUS = "anonymous"
# The offline page is precached, so a change to what it is drawn from must make a new worker.
OFFLINE_TEMPLATES = ("media/offline.html", "base.html")
# The service worker's own source: plain JavaScript, served with its config by the view.
SERVICE_WORKER = Path(__file__).with_name("sw.js")
# Where posters come from (the providers' image hosts): the worker keeps their images.
POSTER_HOSTS = ("image.tmdb.org", "cdn.myanimelist.net")
# How many posters a device keeps, per person; the oldest go first.
MAX_POSTERS = 150


def cache_key(user) -> str:
    """An opaque name for `user`'s offline copies: the same on every page, different per
    person, and not the user id (it is a keyed hash, so it cannot be guessed or reversed)."""
    if not user.is_authenticated:
        return ANONYMOUS
    return salted_hmac("shelf.pwa.cache_key", str(user.pk)).hexdigest()[:32]


def precache_files() -> dict[str, str]:
    """Shelf's own static files (not the admin's), by name, with the URL served for each:
    the hashed name under the manifest storage, the plain one otherwise."""
    names = sorted(
        path for path, _ in FileSystemFinder().list(ignore_patterns=[".*", "*~", "*.py"])
    )
    return {name: staticfiles_storage.url(name) for name in names}


def service_worker_source() -> str:
    """The worker's script as written, without the config the view puts before it."""
    return SERVICE_WORKER.read_text(encoding="utf-8")


def static_version(files: dict[str, str], worker_source: str) -> str:
    """Changes whenever a static file changes: by its hashed name when the storage keeps a
    manifest (production), by its bytes otherwise (tests and development); and whenever the
    offline page's templates or the worker's own source change."""
    digest = hashlib.sha256()
    hashed_files = getattr(staticfiles_storage, "hashed_files", None)
    if hashed_files:
        digest.update(json.dumps(sorted(hashed_files.items())).encode())
    else:
        finder = FileSystemFinder()
        for name in files:
            digest.update(name.encode())
            with open(finder.find(name), "rb") as source:
                digest.update(hashlib.sha256(source.read()).digest())
    for name in OFFLINE_TEMPLATES:
        digest.update(get_template(name).template.source.encode())
    digest.update(worker_source.encode())
    return digest.hexdigest()[:16]


def request_cache_key(request: HttpRequest) -> str:
    """`cache_key` of the request's person, computed once per request (the page's meta tag and
    its header both need it)."""
    if not hasattr(request, "user"):
        return ANONYMOUS
    if not hasattr(request, "_shelf_cache_key"):
        request._shelf_cache_key = cache_key(request.user)
    return request._shelf_cache_key


def cache_key_context(request: HttpRequest) -> dict:
    """`pwa_cache_key` for the page's meta tag, so page scripts know whose page it is; only
    computed when a template shows it (an htmx fragment does not)."""
    return {"pwa_cache_key": SimpleLazyObject(lambda: request_cache_key(request))}


class OfflineCopiesMiddleware:
    """Marks each HTML page with whose it is, for the service worker, and keeps a
    signed-in person's pages out of shared caches."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not response.get("Content-Type", "").startswith("text/html"):
            return response
        if "HX-Request" not in request.headers:  # the worker keeps pages, never fragments
            response.headers.setdefault(CACHE_KEY_HEADER, request_cache_key(request))
        if user.is_authenticated:
            patch_cache_control(response, private=True)
        return response
