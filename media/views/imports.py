"""Import pages: upload a list, watch it being matched, see what it would change, import it.

Every page is the person's own: another person's import answers 404. Nothing is written to
the person's list before the Import button (`media.importing`); each post answers with a
redirect (Post/Redirect/Get), so a second press finds the work done or under way.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from media import importing
from media.imports import FormatError
from media.kinds import KINDS
from media.models import Import
from media.providers import NotFound, ProviderError
from media.search import matching
from media.views.http import HtmxHttpRequest, see_other

# Rows shown per section on the preview; "Show all" pages through the rest.
PREVIEW_ROWS = 50
PAGE_ROWS = 200
RECENT = 5


class ImportForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text=(
            "A MyAnimeList XML export (.xml or .xml.gz), a Letterboxd export (the ZIP or one of "
            "its CSV files), an IMDb CSV export, or a Shelf JSON export. Up to 20 MB."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_UPLOAD:
            raise forms.ValidationError(
                f"This file is {upload.size / 1024 / 1024:.1f} MB; Shelf imports files of up "
                f"to {importing.MAX_UPLOAD // 1024 // 1024} MB. Lists are much smaller: is it "
                "the right file?"
            )
        return upload


def _page(request, form, status=200) -> HttpResponse:
    recent = request.user.imports.defer("rows").order_by("-created")[:RECENT]
    context = {"form": form, "recent": recent}
    return render(request, "media/import.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HtmxHttpRequest) -> HttpResponse:
    """The import page: the upload form, and the person's recent imports."""
    if request.method == "GET":
        importing.abandon_stale()
        return _page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        imp = importing.start_import(request.user, upload.name, upload.read())
    except FormatError as error:
        form.add_error("file", str(error))
        return _page(request, form, status=422)
    except importing.Busy as busy:
        form.add_error("file", str(busy))
        return _page(request, form, status=409)
    finally:
        upload.close()  # a large upload's temporary file goes now, not at the end of the request
    return see_other(reverse("media:import_detail", args=[imp.pk]))


def _own(request, pk: int) -> Import:
    """The person's import (404 for anyone else's); its rows are read only where needed."""
    return get_object_or_404(Import.objects.defer("rows"), pk=pk, user=request.user)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """An import as it stands: matching (a progress bar that refreshes itself), its preview,
    being imported, or its result."""
    imp = _own(request, pk)
    context: dict = {"imp": imp, "kinds": KINDS.values()}
    if imp.state == Import.State.READY:
        plan = importing.build_plan(imp)
        show = request.GET.get("show")
        counts = plan.counts
        context.update(plan=plan, counts=counts, conflicts=plan.conflicts)
        if show in importing.SECTIONS:
            paginator = Paginator(plan.section(show), PAGE_ROWS)
            context.update(show=show, page=paginator.get_page(request.GET.get("page")))
        else:
            context["sections"] = [
                (name, plan.section(name)[:PREVIEW_ROWS], count)
                for name, count in counts.items()
                if count
            ]
    if request.htmx:
        return render(request, "media/import_detail.html#import-state", context)
    return render(request, "media/import_detail.html", context)


@login_required
@require_POST
def apply(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The Import button: write the preview's changes (once, however often it is pressed)."""
    imp = _own(request, pk)
    started = importing.request_apply(imp, request.POST.get("conflicts", importing.KEEP))
    if not started and imp.state in (Import.State.FAILED, Import.State.CANCELLED):
        messages.error(request, "This import can no longer be imported: upload the file again.")
    return see_other(reverse("media:import_detail", args=[imp.pk]))


@login_required
@require_POST
def cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    imp = _own(request, pk)
    if importing.cancel_import(imp):
        messages.success(request, f"Import of {imp.filename} cancelled: nothing was written.")
    return see_other(reverse("media:import"))


class PickForm(forms.Form):
    """An unmatched row's title, as the person picks it: a catalog title, a provider's, or
    none (skip the row)."""

    item = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    provider_id = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    skip = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if sum(bool(data.get(name)) for name in ("item", "provider_id", "skip")) != 1:
            raise forms.ValidationError("Pick one title, or skip the row.")
        return data


@login_required
@require_http_methods(["GET", "POST"])
def row(request: HtmxHttpRequest, pk: int, index: int) -> HttpResponse:
    """Find the title of an unmatched row, or skip it."""
    imp = _own(request, pk)
    back = reverse("media:import_detail", args=[imp.pk]) + "#unmatched"
    if imp.state != Import.State.READY or not 0 <= index < len(imp.rows):
        messages.error(request, "That row is not waiting for a title any more.")
        return see_other(back)
    entry = importing.row_from_json(imp.rows[index])
    kind = KINDS[entry.kind]
    error = ""
    if request.method == "POST":
        form = PickForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            item = record = None
            if data["item"]:
                item = kind.item_model.objects.filter(pk=data["item"]).first()
                if item is None:
                    error = "That title is not in the catalog any more."
            elif data["provider_id"]:
                try:
                    record = kind.provider.fetch(kind.key, data["provider_id"])
                except NotFound:
                    error = f"{kind.provider.name} has no such title."
                except ProviderError as problem:
                    error = f"{problem.message}. Try again in a moment."
            if not error:
                if not importing.pick(imp, index, item=item, record=record):
                    messages.error(request, "That import is not waiting for titles any more.")
                return see_other(back)
        else:
            error = " ".join(form.non_field_errors()) or "Pick one title, or skip the row."
    query = (request.GET.get("q") or entry.title).strip()[:200]
    local = list(matching(kind, query)[:10]) if query else []
    online, online_error = [], ""
    if query:
        try:
            online = kind.provider.search(kind.key, query, limit=10)
        except ProviderError as problem:
            online_error = problem.message
    context = {
        "imp": imp,
        "index": index,
        "entry": entry,
        "kind": kind,
        "query": query,
        "local": local,
        "online": online,
        "online_error": online_error,
        "provider": kind.provider,
        "error": error,
        "back": back,
    }
    return render(request, "media/import_row.html", context, status=422 if error else 200)
