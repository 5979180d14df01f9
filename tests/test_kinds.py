"""Every registered kind, whatever it is: its database rules exist and work, and every page and
fragment renders for it. A new kind is covered here without writing a test of its own."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.db import IntegrityError, connection, transaction

from media import triggers
from media.feed import status_counts
from media.kinds import KINDS
from media.models import Status
from tests.conftest import HTMX, save_url, saved_rows


def test_registry_keys_slugs_and_models_are_distinct():
    kinds = list(KINDS.values())
    for attribute in ("key", "slug", "item_model", "saved_model"):
        assert len({getattr(kind, attribute) for kind in kinds}) == len(kinds), attribute
    for kind in kinds:
        assert kind.item_model.kind_key == kind.key
        assert kind.saved_model._meta.get_field(kind.item_field).related_model is kind.item_model


def test_every_kind_has_each_rule_and_index_in_the_live_database(kind, db):
    live = triggers.live_objects(connection)
    expected = triggers.expected_objects(triggers.KindTables.of(kind), connection.vendor)
    for rule, names in expected.items():
        assert names <= live, f"{kind}: {rule} is missing {sorted(names - live)}"
    assert expected["status counts"] and expected["title copy"]
    saved = kind.saved_model
    assert bool(expected["progress guards"]) == bool(
        saved.counters or saved.bounds or saved.per_season
    )
    for model in (kind.item_model, kind.saved_model):
        names = {index.name for index in model._meta.indexes}
        assert names <= live, f"{model.__name__}: {sorted(names - live)}"


def test_every_kinds_rules_hold(kind, user, items):
    item = items[kind.key]
    saved = kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    # The counts follow inserts, status changes and deletes.
    assert status_counts(user, [kind])[Status.PLANNED] == 1
    kind.saved_model.objects.filter(pk=saved.pk).update(status=Status.DROPPED)
    assert status_counts(user, [kind])[Status.DROPPED] == 1
    # The title copy follows the item's title.
    assert kind.saved_model.objects.get(pk=saved.pk).item_title == item.title
    kind.item_model.objects.filter(pk=item.pk).update(title="Renamed")
    assert kind.saved_model.objects.get(pk=saved.pk).item_title == "Renamed"
    # Progress may not pass a known total, whatever the path.
    for counter in kind.saved_model.counters:
        kind.item_model.objects.filter(pk=item.pk).update(**{counter.total: 3})
        with pytest.raises(IntegrityError), transaction.atomic():
            kind.saved_model.objects.filter(pk=saved.pk).update(**{counter.field: 4})
        kind.saved_model.objects.filter(pk=saved.pk).update(**{counter.field: 3})
        with pytest.raises(IntegrityError), transaction.atomic():
            kind.item_model.objects.filter(pk=item.pk).update(**{counter.total: 2})
    kind.saved_model.objects.filter(pk=saved.pk).delete()
    assert sum(status_counts(user, [kind]).values()) == 0


def page(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def test_every_page_and_fragment_renders_for_every_kind(kind, client, auth_client, user, items):
    item = items[kind.key]
    url, title = item.get_absolute_url(), html_lib.escape(item.title)

    assert title in page(client.get(f"/{kind.slug}/"))
    assert title in page(client.get(f"/{kind.slug}/", {"q": item.title[:5].lower()}))
    signed_out = page(client.get(url))
    assert "to keep it on your shelf" in signed_out and ">Save</button>" in signed_out
    for fact in item.fact_texts:
        assert fact in signed_out
    assert ">Save</button>" in page(auth_client.get(url))

    answer = page(auth_client.post(save_url(kind, item), {"intent": "save"}, **HTMX))
    assert ">Unsave</button>" in answer and "<html" not in answer
    saved = saved_rows(kind, user, item).get()
    full = page(auth_client.get(url))
    assert ">Unsave</button>" in full and 'class="tracking"' in full
    assert f'data-summary="{html_lib.escape(saved.summary)}"' in full

    track = f"/track/{kind.key}/{item.pk}/"
    panel = page(auth_client.get(track, **HTMX))
    assert panel.lstrip().startswith('<section class="tracking"') and "Edit tracking" in panel
    refused = page(auth_client.post(track, {"score": "11"}, **HTMX), 422)
    assert "Nothing was changed" in refused and 'class="field-error"' in refused
    assert "Nothing was changed" in page(auth_client.post(track, {"score": "11"}), 422)
    edited = auth_client.post(track, {**tracking_values(saved), "score": "8", "note": "Mine."})
    assert edited.status_code == 303
    assert saved_rows(kind, user, item).get().score == 8

    dashboard = page(auth_client.get("/saved/", {"kind": kind.key}))
    assert f'href="{url}">{title}</a>' in dashboard
    assert 'Any status <span class="count">1</span>' in dashboard
    assert "Edit tracking" in dashboard and f"kind-badge kind-{kind.key}" in dashboard

    removed = page(auth_client.post(save_url(kind, item), {"intent": "unsave"}, **HTMX))
    assert ">Save</button>" in removed and ">Undo<" in removed
    removal = re.search(r'name="removal" value="(\d+)"', removed).group(1)
    back = auth_client.post(save_url(kind, item), {"intent": "undo", "removal": removal}, **HTMX)
    assert ">Unsave</button>" in page(back)
    assert saved_rows(kind, user, item).get().note == "Mine."
    empty = page(auth_client.get("/saved/", {"kind": kind.key, "status": "dropped"}))
    assert "Nothing here with that status" in empty


def tracking_values(saved) -> dict:
    """The tracking form's fields as the page would post them, unchanged."""
    from media.forms import tracking_form

    form, data = tracking_form(saved), {}
    for name in saved.tracking_fields:
        value = form[name].value()
        if form[name].widget_type == "checkbox":
            if value:
                data[name] = "on"  # an unchecked box is not posted at all
        else:
            data[name] = "" if value is None else value
    return data


def test_unit_words_are_singular_for_one(kind, auth_client, user, items):
    """ "1 chapter", never "1 chapters": in the panel, the live region's text and +1's label."""
    item = items[kind.key]
    for counter in kind.saved_model.counters:
        kind.item_model.objects.filter(pk=item.pk).update(**{counter.total: None})
    kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    saved = saved_rows(kind, user, item).get()
    for counter in kind.saved_model.counters:
        kind.saved_model.objects.filter(pk=saved.pk).update(**{counter.field: 1})
    saved = saved_rows(kind, user, item).get()
    html = page(auth_client.get(item.get_absolute_url()))
    for counter in kind.saved_model.counters:
        assert f"1 {counter.unit.one}<" in html
        assert f"1 {counter.unit.many}" not in html
    if kind.saved_model.counters:
        first = kind.saved_model.counters[0]
        assert f"1 {first.unit.one}," in saved.summary
        assert f'+1<span class="visually-hidden"> {first.unit.one}</span>' in html
