"""The writes a person makes from a page: save, unsave, and what they track on a save."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from media.forms import SaveIntent, tracking_form
from media.kinds import Kind
from media.services import Restored, find_item, restore_item, save_item, unsave_item
from media.views.http import HtmxHttpRequest, login_first, safe_next, see_other
from media.views.pages import render_item_page

# What an Undo tells the person, by what it did; and whether the item is saved afterwards.
UNDONE = {
    Restored.RESTORED: ("Put “{}” back on your shelf, as it was.", True),
    Restored.ALREADY: ("“{}” is already back on your shelf.", True),
    Restored.SAVED_AGAIN: ("“{}” is on your shelf again, so there was nothing to undo.", True),
    Restored.GONE: ("Nothing to undo: “{}” was removed too long ago to bring back.", False),
    Restored.REFUSED: (
        "“{}” could not be put back as it was: its totals have changed since. "
        "Save it again to track it anew.",
        False,
    ),
}


@require_POST
def save(request: HtmxHttpRequest, kind: Kind, pk: int) -> HttpResponse:
    """Save, unsave or undo an unsave of one item, as the form's `intent` says.

    Unsave keeps the removed row for a while and the answer offers Undo, which puts it back
    exactly as it was. htmx gets the button partial; a plain post gets 303 to `next` (PRG),
    whose page says what happened (with Undo after an unsave).
    """
    if not request.user.is_authenticated:
        item = find_item(kind, pk)
        if item is None:
            raise Http404(f"No {kind.label_in_text} {pk}.")
        return login_first(request, item)

    posted = SaveIntent.read(request.POST)
    if posted is None:
        return render(
            request,
            "error.html",
            {"title": "Bad request", "message": "The form said neither save, unsave nor undo."},
            status=400,
        )
    intent, removal = posted.intent, None
    if intent == "save":
        item, news, saved = save_item(request.user, kind, pk), "Saved “{}”.", True
    elif intent == "unsave":
        item, removal = unsave_item(request.user, kind, pk)
        news, saved = "Removed “{}”.", False
    else:
        item = find_item(kind, pk)
        if item is not None:
            news, saved = UNDONE[restore_item(request.user, kind, item, posted.removal)]
    if item is None:
        raise Http404(f"No {kind.label_in_text} {pk}.")
    news = news.format(item.title)
    next_url = safe_next(request, request.POST.get("next"))
    context = {
        "item": item,
        "saved": saved,
        "removal": removal,
        "news": news,
        "next": next_url or "",
        "compact": request.POST.get("compact") == "1",
    }
    if request.htmx:
        # The busiest answer needs its own context and the CSRF token, nothing the context
        # processors add for whole pages; rendering without them is a fifth of its cost.
        context["csrf_token"] = get_token(request)
        return HttpResponse(render_to_string("media/fragments.html#save-response", context))
    if removal is not None:
        news = render_to_string("media/fragments.html#undo-message", context, request=request)
    messages.success(request, news)
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
            saved.reconcile(form.changed_data)
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
    next_url = safe_next(request, data.get("next")) or ""
    context = {
        "kind": kind,
        "saved": saved,
        "form": form,
        "next": next_url,
        "next_q": quote(next_url),
        # A dashboard entry's quick buttons keep it compact; "Edit tracking" opens the form.
        "compact": data.get("compact") == "1" and not form.errors,
        "editing": data.get("edit") == "1",
    }
    return render(request, "media/fragments.html#tracking", context, status=status)
