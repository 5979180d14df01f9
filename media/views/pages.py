"""The pages people browse: home, the catalog lists, an item, and the Saved dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from media.feed import SORTS, saved_feed, status_counts
from media.forms import DashboardForm, SearchForm, tracking_form
from media.kinds import KINDS, Kind
from media.models import Status
from media.saved_states import in_progress, saved_states
from media.search import count_up_to, matching
from media.services import get_saved
from media.views.http import HtmxHttpRequest, safe_next

HOME_ITEMS_PER_KIND = 6
LIST_PER_PAGE = 24
MAX_LIST_PAGE = 100_000  # beyond any catalog; keeps OFFSET an ordinary number
SEARCH_COUNT_LIMIT = 1000
FEED_PER_PAGE = 20


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    shelves = [
        (
            kind,
            list(
                # Newest first among titles with a known year (PostgreSQL would put the
                # unknown ones first); the (-year, title) index serves it.
                kind.item_model.objects.filter(year__isnull=False)
                .defer("synopsis")
                .order_by("-year", "title")[:HOME_ITEMS_PER_KIND]
            ),
        )
        for kind in KINDS.values()
    ]
    here = request.get_full_path()
    context = {
        "shelves": shelves,
        "saves": saved_states(request.user, {kind.key: items for kind, items in shelves}),
        # Signed in, the page starts with what the person is in the middle of.
        "continuing": in_progress(request.user),
        "next": here,
        "next_q": quote(here),
    }
    return render(request, "media/home.html", context)


@dataclass(frozen=True)
class ListPage:
    """One page of a catalog list, found without counting the catalog (see `list_page`)."""

    number: int
    object_list: list
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def list_page(items, number: str | None, per_page: int = LIST_PER_PAGE) -> ListPage:
    """Page `number` of `items`: one row more than a page tells whether another follows.

    A junk or out-of-range number shows the first page, never an error.
    """
    try:
        wanted = max(1, min(int(number or 1), MAX_LIST_PAGE))
    except ValueError:
        wanted = 1
    start = (wanted - 1) * per_page
    rows = list(items[start : start + per_page + 1])
    if not rows and wanted > 1:
        return list_page(items, "1", per_page)
    return ListPage(wanted, rows[:per_page], len(rows) > per_page)


@require_GET
def item_list(request: HtmxHttpRequest, kind: Kind) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    items = kind.item_model.objects.order_by("title", "year", "id")  # its index's order
    matches = None
    if query:
        items = matching(kind, query)
        matches = count_up_to(items, SEARCH_COUNT_LIMIT)
    page = list_page(items.defer("synopsis"), request.GET.get("page"))
    return render(
        request,
        "media/item_list.html",
        {
            "kind": kind,
            "page": page,
            "saves": saved_states(request.user, {kind.key: page.object_list}),
            "query": query,
            "form": form,
            "matches": min(matches or 0, SEARCH_COUNT_LIMIT),
            "more_matches": matches is not None and matches > SEARCH_COUNT_LIMIT,
        },
        status=200 if form.is_valid() else 400,
    )


@require_GET
def item_detail(request: HtmxHttpRequest, kind: Kind, pk: int) -> HttpResponse:
    item = get_object_or_404(kind.item_model, pk=pk)
    return render_item_page(request, kind, item, get_saved(request.user, kind, item))


def render_item_page(request, kind: Kind, item, saved, form=None, status=200) -> HttpResponse:
    context = {
        "kind": kind,
        "item": item,
        "saved": saved,
        "provider_url": item.provider_id and kind.provider.title_url(kind.key, item.provider_id),
        "form": form or (tracking_form(saved) if saved else None),
        # Opened from a dashboard entry's "Edit tracking": the form starts open, and goes
        # back where it came from; so does a refused plain post.
        "editing": request.GET.get("edit") == "1",
        "next": safe_next(request, request.GET.get("next")) or request.get_full_path()
        if request.method == "GET"
        else safe_next(request, request.POST.get("next")) or item.get_absolute_url(),
    }
    return render(request, "media/item_detail.html", context, status=status)


@require_GET
@login_required
def saved(request: HtmxHttpRequest) -> HttpResponse:
    form = DashboardForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "feed": None, "active_kind": None, "sorts": SORTS}
        return render(request, "media/saved.html", context, status=400)
    active_kind = KINDS.get(form.cleaned_data["kind"])
    kinds = [active_kind] if active_kind else None
    feed = saved_feed(
        request.user,
        per_page=FEED_PER_PAGE,
        kinds=kinds,
        status=form.cleaned_data["status"],
        sort=form.cleaned_data["sort"],
        before=form.cleaned_data["before"],
        after=form.cleaned_data["after"],
    )
    counts = status_counts(request.user, kinds)
    here = request.get_full_path()
    context = {
        "form": form,
        "feed": feed,
        # Every entry's forms come back here: quoted once for the page, not once per entry.
        "next": here,
        "next_q": quote(here),
        "active_kind": active_kind,
        "active_status": form.cleaned_data["status"],
        "sort": form.cleaned_data["sort"],
        "sorts": SORTS,
        "statuses": [(value, label, counts[value]) for value, label in Status.choices],
        "total": sum(counts.values()),
    }
    return render(request, "media/saved.html", context)
