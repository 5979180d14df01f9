"""What the service worker needs from the server: the static files to precache, a version
that changes with them, an opaque per-person key that keeps offline copies apart, when the
session those copies belong to ends, and word that they must go at every sign-out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import FileSystemFinder
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.utils.cache import patch_cache_control
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject

CACHE_KEY_HEADER = "Shelf-Cache-Key"
ANONYMOUS = "anonymous"
# When the signed-in person's session expires (seconds since the epoch): offline, the worker
# shows their kept pages only until then.
SESSION_ENDS_HEADER = "Shelf-Session-Ends"
# The same instant, kept in the session whenever it is saved: the session's own expiry is only
# "now + age" at its last save, which a request that does not save it cannot know otherwise.
SESSION_ENDS_KEY = "shelf_session_ends"
# Sent with every sign-out: the browser deletes its HTTP cache, Cache Storage and IndexedDB.
CLEAR_SITE_DATA = '"cache", "storage"'
# Set on a request by `forget_offline_copies` when logout() ran during it.
SIGNED_OUT = "_shelf_signed_out"
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


def forget_offline_copies(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """`user_logged_out` receiver: whatever signed this request out (Shelf's Sign out, the
    admin's, deleting the account), its answer carries Clear-Site-Data
    (OfflineCopiesMiddleware)."""
    if request is not None:
        setattr(request, SIGNED_OUT, True)


def remember_session_end(sender=None, request: HttpRequest | None = None, **kwargs) -> None:
    """Keeps in the request's session when it will expire, computed as its next save will
    (from `get_expiry_date`, so `set_expiry` is honoured). Also the `user_logged_in` receiver:
    a sign-in's session has it from its first save, even one made outside a request."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_ENDS_KEY] = int(session.get_expiry_date().timestamp())


def session_ends(request: HttpRequest) -> int | None:
    """When the signed-in person's session expires, in seconds since the epoch; None when
    nobody is signed in.

    Saving a session is what moves its expiry, so the end is kept anew whenever the session is
    about to be saved; a session made before Shelf kept it gets it, and is saved for it. Called
    as the response leaves, inside SessionMiddleware: at most a second before the expiry saved.
    """
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or session is None or not user.is_authenticated:
        return None
    if (
        session.modified
        or settings.SESSION_SAVE_EVERY_REQUEST
        or not isinstance(session.get(SESSION_ENDS_KEY), int)
    ):
        remember_session_end(request=request)
    return session[SESSION_ENDS_KEY]


def cache_key_context(request: HttpRequest) -> dict:
    """`pwa_cache_key` for the page's meta tag, so page scripts know whose page it is; only
    computed when a template shows it (an htmx fragment does not)."""
    return {"pwa_cache_key": SimpleLazyObject(lambda: request_cache_key(request))}


class OfflineCopiesMiddleware:
    """Marks each HTML page with whose it is and when that person's session ends, for the
    service worker; keeps a signed-in person's pages out of shared caches; and has the browser
    delete its offline copies at every sign-out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, SIGNED_OUT, False):
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        user = getattr(request, "user", None)
        if user is None:
            return response
        page = response.get("Content-Type", "").startswith("text/html")
        kept = page and "HX-Request" not in request.headers  # the worker keeps pages, not fragments
        # A session about to be saved keeps its new end, whatever the answer.
        session = getattr(request, "session", None)
        saving = session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)
        ends = session_ends(request) if kept or saving else None
        if not page:
            return response
        if kept:
            response.headers.setdefault(CACHE_KEY_HEADER, request_cache_key(request))
            if ends is not None:
                response.headers.setdefault(SESSION_ENDS_HEADER, str(ends))
        if user.is_authenticated:
            patch_cache_control(response, private=True)
        return response
