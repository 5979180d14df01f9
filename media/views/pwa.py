"""What makes Shelf an installable app that works offline: the manifest, the service worker
script and the offline page."""

from __future__ import annotations

import json

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from media.kinds import kinds_in_words
from media.pwa import (
    ANONYMOUS,
    CACHE_KEY_HEADER,
    MAX_POSTERS,
    POSTER_HOSTS,
    SESSION_ENDS_HEADER,
    precache_files,
    service_worker_source,
    static_version,
)

# The manifest's colours are the stylesheet's: --surface (the header) and --bg, light theme.
THEME_COLOR = "#ffffff"
BACKGROUND_COLOR = "#f7f5f0"


@require_GET
def web_manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, with the static storage's (hashed) icon URLs."""
    icons = [
        {"src": static(f"icons/shelf-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ] + [
        {
            "src": static(f"icons/shelf-maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    manifest = {
        "id": "/",
        "name": "Shelf",
        "short_name": "Shelf",
        "description": f"Keep the {kinds_in_words()} you care about on one shelf.",
        "lang": "en",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": icons,
    }
    response = HttpResponse(json.dumps(manifest), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"  # it names hashed icons, which change on deploy
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker script, at the site root so that its scope is the whole site: its
    config (version, files to precache...) as one line of JSON, then media/sw.js as written."""
    files = precache_files()
    source = service_worker_source()
    config = {
        "version": static_version(files, source),
        "precache": list(files.values()),
        "offlineUrl": resolve_url("media:offline"),
        "keyHeader": CACHE_KEY_HEADER,
        "endsHeader": SESSION_ENDS_HEADER,
        "anonymousKey": ANONYMOUS,
        "neverKept": [resolve_url("admin:index")],
        "posterHosts": list(POSTER_HOSTS),
        "maxPosters": MAX_POSTERS,
    }
    # JSON is a JavaScript literal; json.dumps escapes every non-ASCII character.
    script = f'"use strict";\nconst CONFIG = {json.dumps(config)};\n\n{source}'
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    # The browser must see a new deploy's worker at once, not a copy from its HTTP cache.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows for a page it cannot fetch and did not keep.

    It is precached and then shown to whoever uses the device, so it is drawn as for
    nobody in particular: no account, no messages (those are left for the next page).
    """
    context = {"user": AnonymousUser(), "messages": [], "pwa_cache_key": ""}
    return render(request, "media/offline.html", context)
