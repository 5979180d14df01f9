"""Search: the catalog first, then each kind's provider, and adding a provider's title.

The search page answers from the local catalog at once; each provider's results come after
it (htmx loads them into the page; without JavaScript a link opens them as a page of their
own), so a slow or unreachable provider delays one section and never the page. A provider's
title becomes a catalog title by Add (PRG to its page) or Save (added and saved in one press).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from media.catalog import add_record
from media.forms import AddForm, SearchForm
from media.kinds import KINDS, Kind
from media.providers import NotFound, ProviderError
from media.saved_states import saved_states
from media.search import count_up_to, matching
from media.services import get_saved, save_item
from media.views.http import HtmxHttpRequest, login_first, safe_next, see_other

LOCAL_PER_KIND = 6
ONLINE_LIMIT = 10


@dataclass
class LocalResults:
    """One kind's matches in the catalog: the first few, and how many in all (bounded)."""

    kind: Kind
    items: list
    count: int = 0
    more: bool = False  # more than the bounded count


@dataclass
class Found:
    """One provider result, with the catalog's title for it when there is one."""

    record: object  # media.providers.Record
    kind: Kind
    item: object = None  # the catalog's row for it, if any
    saved: object = None  # the person's save of that row, if any

    @property
    def facts(self) -> list[str]:
        """The result's totals in words, as the catalog's pages say them."""
        return self.kind.item_model.facts_in_words(self.record.totals)

    @property
    def dom_id(self) -> str:
        return f"online-{self.kind.key}-{self.record.provider_id}"


def search_query(request) -> tuple[SearchForm, str]:
    form = SearchForm(request.GET)
    return form, (form.cleaned_data["q"] if form.is_valid() else "")


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    """Every kind's catalog matches for `q`, then a place for each provider's results."""
    form, query = search_query(request)
    sections = []
    for kind in KINDS.values():
        if not query:
            break
        items = list(matching(kind, query).defer("synopsis")[:LOCAL_PER_KIND])
        count = len(items)
        if count == LOCAL_PER_KIND:
            count = count_up_to(matching(kind, query))
        sections.append(LocalResults(kind, items, min(count, 1000), count > 1000))
    context = {
        "form": form,
        "query": query,
        "sections": sections,
        "found_locally": sum(s.count for s in sections),
        "saves": saved_states(request.user, {s.kind: s.items for s in sections}),
    }
    return render(request, "media/search.html", context, status=200 if form.is_valid() else 400)


def found_in_catalog(request, kind: Kind, records) -> list[Found]:
    """Each record with the catalog's row for it and the person's save of it (a query each)."""
    model = kind.item_model
    known = {
        getattr(item, model.provider_id_field): item
        for item in model.objects.filter(
            **{f"{model.provider_id_field}__in": [r.provider_id for r in records]}
        ).defer("synopsis")
    }
    saves = saved_states(request.user, {kind: known.values()})
    found = []
    for record in records:
        item = known.get(record.provider_id)
        saved = saves.get((kind.key, item.pk)) if item is not None else None
        found.append(Found(record, kind, item, saved))
    return found


@require_GET
@vary_on_headers("HX-Request")
def online(request: HtmxHttpRequest, kind: Kind) -> HttpResponse:
    """The provider's results for `q` in `kind`: a section for htmx, a page without it.

    A provider that is unreachable or unconfigured gives its message in place of results,
    with 200: the rest of the page is fine."""
    form, query = search_query(request)
    provider, results, problem = kind.provider, [], None
    if query:
        try:
            records = provider.search(kind.key, query, limit=ONLINE_LIMIT)
        except ProviderError as error:
            problem = error.message
        else:
            results = found_in_catalog(request, kind, records)
    context = {
        "form": form,
        "kind": kind,
        "provider": provider,
        "query": query,
        "results": results,
        "problem": problem,
        # Forms in the section come back to the page it is part of.
        "next": (request.htmx and request.htmx.current_url_abs_path) or request.get_full_path(),
    }
    if request.htmx:
        return render(request, "media/search.html#online-results", context)
    return render(request, "media/search_online.html", context, status=200 if query else 400)


@require_POST
def add(request: HtmxHttpRequest, kind: Kind) -> HttpResponse:
    """Add a provider's title to the catalog (`intent=add`: then its page), or add and save it
    in one press (`intent=save`: back to where it was pressed, or its page)."""
    form = AddForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "error.html",
            {"title": "Bad request", "message": "That form did not name a title to add."},
            status=400,
        )
    provider, provider_id = kind.provider, form.cleaned_data["provider_id"]
    if not request.user.is_authenticated:
        back = safe_next(request, request.POST.get("next")) or reverse("media:search")
        return login_first(request, None, back)
    try:
        record = provider.fetch(kind.key, provider_id)
    except NotFound:
        return render(
            request,
            "error.html",
            {
                "title": "Not found",
                "message": (
                    f"{provider.name} has no {kind.label_in_text} with the id {provider_id}."
                ),
            },
            status=404,
        )
    except ProviderError as error:
        return render(
            request,
            "error.html",
            {
                "title": f"{provider.name} is not available",
                "message": f"{error.message}. Nothing was added: try again in a moment.",
            },
            status=503,
        )
    item, created = add_record(kind, record)
    intent = form.cleaned_data["intent"]
    if intent == "save":
        save_item(request.user, kind, item.pk)
        news = f"Added and saved “{item.title}”." if created else f"Saved “{item.title}”."
    else:
        news = (
            f"Added “{item.title}” to the catalog."
            if created
            else (f"“{item.title}” was already in the catalog.")
        )
    if request.htmx:
        found = Found(record, kind, item, get_saved(request.user, kind, item))
        context = {
            "found": found,
            "news": news,
            "next": request.POST.get("next", ""),
            # Its heading level is the one of the page it was pressed on.
            "head_level": 2 if "/online/" in (request.htmx.current_url_abs_path or "") else 3,
        }
        return render(request, "media/search.html#online-result", context)
    messages.success(request, news)
    if intent == "save":
        return see_other(safe_next(request, request.POST.get("next")) or item.get_absolute_url())
    return see_other(item.get_absolute_url())
