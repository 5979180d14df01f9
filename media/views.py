"""Shelf's pages, the save and tracking endpoints, and what makes Shelf an installable app that
works offline (manifest, service worker, offline page, sign-out): function views, one per URL."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import LogoutView, redirect_to_login
from django.db import transaction
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render, resolve_url
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from media.feed import SORTS, saved_feed, status_counts
from media.forms import DashboardForm, SaveForm, SearchForm, tracking_form
from media.kinds import KINDS, Kind
from media.models import Status
from media.pwa import CACHE_KEY_HEADER, precache_files, static_version
from media.services import find_item, get_saved, reconcile_status, save_item, unsave_item

HOME_ITEMS_PER_KIND = 6
LIST_PER_PAGE = 24
MAX_LIST_PAGE = 100_000  # beyond any catalog; keeps OFFSET an ordinary number
SEARCH_COUNT_LIMIT = 1000
FEED_PER_PAGE = 20


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """`candidate` if it is a path or URL on this site, else None."""
    if (
        candidate
        and len(candidate) <= 2000
        and candidate.isprintable()
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return None


def see_other(url: str) -> HttpResponseRedirect:
    """Post/Redirect/Get: 303 makes the browser follow with a GET, so reload never re-posts."""
    return HttpResponseRedirect(url, status=303)


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    shelves = [
        (
            kind,
            kind.item_model.objects.defer("synopsis").order_by("-year", "title")[
                :HOME_ITEMS_PER_KIND
            ],
        )
        for kind in KINDS.values()
    ]
    return render(request, "media/home.html", {"shelves": shelves})


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
    items = kind.item_model.objects.order_by("title", "year")  # unique: its index orders it
    matches = None
    if query:
        # Ordered by an expression no b-tree index holds, so the planner (whose prepared,
        # generic plan cannot see the term) reaches the matches through the title's
        # trigram index and sorts them, rather than walk the whole catalog in title order.
        items = items.filter(title__icontains=query).order_by(Lower("title"), "year")
        # Counted up to a bound, so a common word costs no more than a rare one.
        matches = items.order_by()[: SEARCH_COUNT_LIMIT + 1].count()
    return render(
        request,
        "media/item_list.html",
        {
            "kind": kind,
            "page": list_page(items.defer("synopsis"), request.GET.get("page")),
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
        "form": form or (tracking_form(saved) if saved else None),
        # Opened from a dashboard entry's "Edit tracking": the form starts open, and goes
        # back where it came from; so does a refused plain post.
        "editing": request.GET.get("edit") == "1",
        "next": safe_next(request, request.GET.get("next")) or request.get_full_path()
        if request.method == "GET"
        else safe_next(request, request.POST.get("next")) or item.get_absolute_url(),
    }
    return render(request, "media/item_detail.html", context, status=status)


def login_first(request: HtmxHttpRequest, item) -> HttpResponse:
    """Send an anonymous person to sign in, and back to the item afterwards."""
    login_redirect = redirect_to_login(item.get_absolute_url())
    if request.htmx:
        return HttpResponseClientRedirect(login_redirect.url)
    return login_redirect


@require_POST
def save(request: HtmxHttpRequest, kind: Kind, pk: int) -> HttpResponse:
    """Save or unsave one item, as the form's `intent` says.

    htmx gets the button partial; a plain post gets 303 to `next` (PRG).
    """
    item = find_item(kind, pk)
    if item is None:
        raise Http404(f"No {kind.label.lower()} {pk}.")
    if not request.user.is_authenticated:
        return login_first(request, item)

    form = SaveForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "error.html",
            {"title": "Bad request", "message": "The form said neither save nor unsave."},
            status=400,
        )
    saved = form.cleaned_data["intent"] == "save"
    if saved:
        save_item(request.user, kind, item)
    else:
        unsave_item(request.user, kind, item)
    next_url = safe_next(request, request.POST.get("next"))

    if request.htmx:
        context = {
            "kind": kind,
            "pk": item.pk,
            "title": item.title,
            "saved": saved,
            "next": next_url or "",
            "csrf_token": get_token(request),
        }
        # The fragment needs only these, not the context processors a page runs.
        return HttpResponse(render_to_string("media/item_detail.html#save-response", context))
    messages.success(request, f"{'Saved' if saved else 'Removed'} “{item.title}”.")
    return see_other(next_url or item.get_absolute_url())


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def track(request: HtmxHttpRequest, kind: Kind, pk: int) -> HttpResponse:
    """Edit what `request.user` tracks on their save of one item.

    GET gives htmx the tracking panel (it loads itself after an htmx Save). POST updates
    the row: htmx gets the panel (200), or the form with its errors (422); a plain post
    gets 303 back to `next`, or the item page with the errors (422).
    """
    item = get_object_or_404(kind.item_model, pk=pk)
    if not request.user.is_authenticated:
        return login_first(request, item)
    rows = kind.saved_model.objects.filter(user=request.user, **{kind.item_field: item})

    if request.method == "GET":
        if not request.htmx:
            return see_other(item.get_absolute_url())
        saved = get_object_or_404(rows)
        setattr(saved, kind.item_field, item)
        return render_tracking(request, kind, saved, tracking_form(saved))

    with transaction.atomic():
        # The row lock makes concurrent edits take turns: each ends in one submission.
        saved = get_object_or_404(rows.select_for_update(of=("self",)))
        setattr(saved, kind.item_field, item)
        form = tracking_form(saved, tracking_data(request, saved))
        if form.is_valid():
            saved = form.save(commit=False)
            reconcile_status(saved, form.changed_data)
            saved.save()

    if form.is_valid():
        if request.htmx:
            return render_tracking(request, kind, saved, tracking_form(saved))
        messages.success(request, f"Updated “{item.title}”.")
        return see_other(safe_next(request, request.POST.get("next")) or item.get_absolute_url())
    saved.refresh_from_db()  # show what is stored beside the errors, not the rejected input
    setattr(saved, kind.item_field, item)
    if request.htmx:
        return render_tracking(request, kind, saved, form, status=422)
    return render_item_page(request, kind, item, saved, form, status=422)


def tracking_data(request: HtmxHttpRequest, saved) -> dict:
    """The posted fields; with `only`, just those, the rest kept as stored.

    The "+1" and "Watched" buttons post one field (`only`) as an absolute value, so a
    double-click sets the same value twice instead of adding twice.
    """
    fields = saved.tracking_fields
    only = [name for name in request.POST.getlist("only") if name in fields]
    if not only:
        return request.POST
    stored = tracking_form(saved)
    data = {name: stored[name].value() for name in fields}
    data.update({name: request.POST.get(name) for name in only})
    return data


def render_tracking(request, kind: Kind, saved, form, status=200) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    context = {
        "kind": kind,
        "saved": saved,
        "form": form,
        "next": safe_next(request, data.get("next")) or "",
        # A dashboard entry's quick buttons keep it compact; "Edit tracking" opens the form.
        "compact": data.get("compact") == "1" and not form.errors,
        "editing": data.get("edit") == "1",
    }
    return render(request, "media/item_detail.html#tracking", context, status=status)


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
    context = {
        "form": form,
        "feed": feed,
        "active_kind": active_kind,
        "active_status": form.cleaned_data["status"],
        "sort": form.cleaned_data["sort"],
        "sorts": SORTS,
        "statuses": [(value, label, counts[value]) for value, label in Status.choices],
        "total": sum(counts.values()),
    }
    return render(request, "media/saved.html", context)


@require_http_methods(["GET", "POST"])
def signup(request: HtmxHttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = UserCreationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Shelf, {user.get_username()}.")
        return see_other(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    status = 400 if form.is_bound else 200
    return render(
        request, "registration/signup.html", {"form": form, "next": next_url or ""}, status=status
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a missing or stale CSRF token, as a page of the site rather than Django's."""
    return render(request, "403_csrf.html", status=403)


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
        "description": "Keep the movies, anime and manga you care about on one shelf.",
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
    """The service worker script, at the site root so that its scope is the whole site."""
    files = precache_files()
    config = {
        "version": static_version(files),
        "precache": list(files.values()),
        "offlineUrl": resolve_url("media:offline"),
        "keyHeader": CACHE_KEY_HEADER,
        "neverKept": [resolve_url("admin:index")],
    }
    script = render_to_string("media/sw.js", {"config": json.dumps(config)})
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


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Django's sign-out, plus: the browser deletes what it kept for this person offline."""
    response = LogoutView.as_view()(request)
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
