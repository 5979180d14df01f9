"""Export: a page of download links, and the downloads, streamed (`media.exports`).

Every download is the signed-in person's own saves, whoever asks: no URL names a person.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from media import exports
from media.feed import status_counts
from media.kinds import KINDS, in_words
from media.views.http import HtmxHttpRequest


def download(request, chunks: Iterable, suffix: str, content_type: str, gzip: bool = False):
    """A streamed attachment named shelf-<username>-<date><suffix>."""
    if gzip:
        chunks, content_type, suffix = exports.gzipped(chunks), "application/gzip", suffix + ".gz"
    else:
        chunks = exports.buffered(chunks)
    response = StreamingHttpResponse(chunks, content_type=content_type)
    name = f"shelf-{request.user.get_username()}-{timezone.localdate().isoformat()}{suffix}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"  # one person's data: kept by no cache
    return response


@require_GET
@login_required
def export_page(request: HtmxHttpRequest) -> HttpResponse:
    """The downloads, with how many saves each holds, and which kinds MyAnimeList's leave out."""
    mal = []
    for key in exports.MAL_KINDS:
        kind = KINDS[key]
        saves = sum(status_counts(request.user, [kind]).values())
        left_out = sum(exports.without_mal_id(request.user, kind).values()) if saves else 0
        mal.append({"kind": kind, "saves": saves - left_out, "left_out": left_out})
    elsewhere = [kind for kind in KINDS.values() if kind.key not in exports.MAL_KINDS]
    context = {
        "saves": exports.save_count(request.user),
        "mal": mal,
        "mal_kinds": in_words([entry["kind"].plural_in_text for entry in mal]),
        "not_mal_kinds": in_words([kind.plural_in_text for kind in elsewhere]),
    }
    return render(request, "media/export.html", context)


@require_GET
@login_required
def shelf_json(request: HtmxHttpRequest) -> HttpResponse:
    return download(request, exports.shelf_json(request.user), ".json", "application/json")


@require_GET
@login_required
def shelf_csv(request: HtmxHttpRequest) -> HttpResponse:
    return download(request, exports.shelf_csv(request.user), ".csv", "text/csv; charset=utf-8")


@require_GET
@login_required
def mal_xml(request: HtmxHttpRequest, kind: str, gzip: bool = False) -> HttpResponse:
    if kind not in exports.MAL_KINDS:
        raise Http404("MyAnimeList lists anime and manga only.")
    chunks = exports.mal_xml(request.user, KINDS[kind])
    return download(request, chunks, f"-{kind}.xml", "application/xml; charset=utf-8", gzip)
