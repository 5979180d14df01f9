"""Unsave keeps what was tracked for a while, and Undo puts it back exactly as it was."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from media.feed import status_counts
from media.kinds import KINDS
from media.models import RemovedSave, Status
from media.services import UNDO_WINDOW, Restored, restore_item, unsave_item
from tests.conftest import HTMX, save_url, saved_rows
from tests.test_counts import counted

SAVED_AT = datetime(2025, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
UPDATED_AT = datetime(2026, 1, 2, 3, 4, 5, 654321, tzinfo=UTC)


def tracked(kind, user, item):
    """A save with every tracked field away from its default, and old times."""
    saved = kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    values = {
        "status": Status.ON_HOLD,
        "score": 7,
        "note": "Stopped at the good part — 🎞️",
        "rewatches": 3,
    }
    for counter in kind.saved_model.counters:
        total = getattr(item, counter.total)
        values[counter.field] = (total or 10) // 2
    days = iter(date(2025, 6, 7 + n) for n in range(10))  # each its own, in form order
    for name in kind.saved_model.tracking_fields:
        field = kind.saved_model._meta.get_field(name)
        if field.get_internal_type() == "BooleanField":
            values[name] = True
        elif field.get_internal_type() == "DateField":
            values[name] = next(days)
    rows = kind.saved_model.objects.filter(pk=saved.pk)
    rows.update(**values)
    rows.update(created=SAVED_AT, updated=UPDATED_AT)  # after, since update() sets neither
    return rows.get()


def every_column(kind, user, item) -> dict:
    row = saved_rows(kind, user, item).get()
    return {f.attname: getattr(row, f.attname) for f in kind.saved_model._meta.concrete_fields}


def removal_in(html: str) -> str:
    return re.search(r'name="removal" value="(\d+)"', html).group(1)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_undo_brings_back_every_tracked_field_exactly(auth_client, user, kind, items, htmx):
    item = items[kind.key]
    tracked(kind, user, item)
    before = every_column(kind, user, item)
    headers = HTMX if htmx else {}

    removed = auth_client.post(save_url(kind, item), {"intent": "unsave"}, **headers)
    assert not saved_rows(kind, user, item).exists()
    if htmx:
        html = removed.content.decode()
        assert ">Save</button>" in html and f'id="undo-{kind.key}-{item.pk}"' in html
        assert 'data-announce="Removed “' in html
    else:
        assert removed.status_code == 303
        html = auth_client.get(removed["Location"]).content.decode()
        assert f"Removed “{item.title}”." in html and ">Undo<" in html
    undone = auth_client.post(
        save_url(kind, item), {"intent": "undo", "removal": removal_in(html)}, **headers
    )
    if htmx:
        assert ">Unsave</button>" in undone.content.decode()
        assert f'hx-get="/track/{kind.key}/{item.pk}/' in undone.content.decode()
    else:
        assert undone.status_code == 303
        assert (
            "back on your shelf, as it was" in auth_client.get(undone["Location"]).content.decode()
        )
    assert every_column(kind, user, item) == before  # id, created, updated and all tracking
    assert status_counts(user) == counted(user)
    assert not RemovedSave.objects.exists()


def test_undo_is_idempotent_and_a_replay_never_brings_back_a_later_removal(user, items):
    kind = KINDS["anime"]
    item = items["anime"]
    tracked(kind, user, item)
    first = unsave_item(user, kind, item.pk)[1]
    assert restore_item(user, kind, item, first) is Restored.RESTORED
    assert restore_item(user, kind, item, first) is Restored.ALREADY
    assert saved_rows(kind, user, item).count() == 1
    second = unsave_item(user, kind, item.pk)[1]
    assert restore_item(user, kind, item, first) is Restored.GONE  # the replay of the first
    assert not saved_rows(kind, user, item).exists()
    assert restore_item(user, kind, item, second) is Restored.RESTORED


def test_another_persons_removal_cannot_be_restored(auth_client, user, other_user, items):
    kind, item = KINDS["manga"], items["manga"]
    tracked(kind, other_user, item)
    theirs = unsave_item(other_user, kind, item.pk)[1]
    response = auth_client.post(save_url(kind, item), {"intent": "undo", "removal": theirs}, **HTMX)
    assert response.status_code == 200 and ">Save</button>" in response.content.decode()
    assert not kind.saved_model.objects.exists()
    assert RemovedSave.objects.filter(pk=theirs, user=other_user).exists()  # still theirs
    wrong_item = items["anime"]
    assert restore_item(other_user, KINDS["anime"], wrong_item, theirs) is Restored.GONE


def test_a_repeated_unsave_still_offers_undo(auth_client, user, items):
    kind, item = KINDS["movie"], items["movie"]
    tracked(kind, user, item)
    first = auth_client.post(save_url(kind, item), {"intent": "unsave"}, **HTMX)
    second = auth_client.post(save_url(kind, item), {"intent": "unsave"}, **HTMX)
    assert removal_in(second.content.decode()) == removal_in(first.content.decode())
    assert RemovedSave.objects.count() == 1


def test_undo_after_saving_again_keeps_the_new_save(auth_client, user, items):
    kind, item = KINDS["anime"], items["anime"]
    tracked(kind, user, item)
    removal = unsave_item(user, kind, item.pk)[1]
    auth_client.post(save_url(kind, item), {"intent": "save"}, **HTMX)
    response = auth_client.post(save_url(kind, item), {"intent": "undo", "removal": removal})
    assert response.status_code == 303
    assert "nothing to undo" in auth_client.get(response["Location"]).content.decode()
    assert saved_rows(kind, user, item).get().status == Status.PLANNED
    assert RemovedSave.objects.filter(pk=removal).exists()  # nothing thrown away by the press


def test_undo_that_no_longer_fits_the_item_is_refused_with_a_message(auth_client, user, items):
    kind, item = KINDS["anime"], items["anime"]
    tracked(kind, user, item)  # 13 of 26 episodes
    removal = unsave_item(user, kind, item.pk)[1]
    kind.item_model.objects.filter(pk=item.pk).update(episodes=12)
    response = auth_client.post(
        save_url(kind, item), {"intent": "undo", "removal": removal}, **HTMX
    )
    assert response.status_code == 200
    assert "its totals have changed since" in response.content.decode()
    assert not saved_rows(kind, user, item).exists()
    assert RemovedSave.objects.filter(pk=removal).exists()


def test_old_removals_expire_and_are_purged(user, items):
    kind = KINDS["movie"]
    tracked(kind, user, items["movie"])
    old = unsave_item(user, kind, items["movie"].pk)[1]
    RemovedSave.objects.filter(pk=old).update(
        removed=datetime.now(UTC) - UNDO_WINDOW - timedelta(1)
    )
    assert restore_item(user, kind, items["movie"], old) is Restored.GONE
    tracked(KINDS["anime"], user, items["anime"])
    unsave_item(user, KINDS["anime"], items["anime"].pk)  # the next removal purges the old one
    assert list(RemovedSave.objects.values_list("kind", flat=True)) == ["anime"]


def test_undo_needs_sign_in_and_csrf(client, user, items):
    kind, item = KINDS["movie"], items["movie"]
    tracked(kind, user, item)
    removal = unsave_item(user, kind, item.pk)[1]
    anonymous = client.post(save_url(kind, item), {"intent": "undo", "removal": removal})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert (
        strict.post(save_url(kind, item), {"intent": "undo", "removal": removal}).status_code == 403
    )
    assert not saved_rows(kind, user, item).exists()


def test_deleting_the_account_deletes_its_removals(user, items):
    kind = KINDS["manga"]
    tracked(kind, user, items["manga"])
    unsave_item(user, kind, items["manga"].pk)
    user.delete()
    assert not RemovedSave.objects.exists()


def test_a_new_removal_of_a_title_replaces_its_earlier_tombstone(user, items):
    kind, item = KINDS["anime"], items["anime"]
    removals = []
    for _ in range(3):
        tracked(kind, user, item)
        removals.append(unsave_item(user, kind, item.pk)[1])
    tracked(KINDS["movie"], user, items["movie"])
    other = unsave_item(user, KINDS["movie"], items["movie"].pk)[1]
    # One tombstone per title: the latest removal of each, so repeated removals keep no pile.
    assert sorted(RemovedSave.objects.values_list("id", flat=True)) == sorted([removals[-1], other])
    assert restore_item(user, kind, item, removals[0]) is Restored.GONE
    assert restore_item(user, kind, item, removals[-1]) is Restored.RESTORED


def test_a_removal_purges_only_its_own_persons_tombstones_of_that_title(user, other_user, items):
    movie, anime = KINDS["movie"], KINDS["anime"]
    expired = datetime.now(UTC) - UNDO_WINDOW - timedelta(1)
    kept = [
        # Another person's removal of the same title, and an expired one of theirs.
        RemovedSave.objects.create(
            user=other_user, kind="movie", item_id=items["movie"].pk, data={}
        ),
        RemovedSave.objects.create(
            user=other_user, kind="anime", item_id=items["anime"].pk, data={}, removed=expired
        ),
        # This person's removal of another kind's title with the same id.
        RemovedSave.objects.create(user=user, kind="anime", item_id=items["movie"].pk, data={}),
        # And of other titles of the same kind, lately.
        *(
            RemovedSave.objects.create(user=user, kind="movie", item_id=pk, data={})
            for pk in (items["movie"].pk + 1, items["movie"].pk + 2)
        ),
    ]
    superseded = [
        RemovedSave.objects.create(user=user, kind="movie", item_id=items["movie"].pk, data={}),
        RemovedSave.objects.create(
            user=user, kind="anime", item_id=items["anime"].pk, data={}, removed=expired
        ),
    ]
    tracked(movie, user, items["movie"])
    removal = unsave_item(user, movie, items["movie"].pk)[1]
    left = set(RemovedSave.objects.values_list("pk", flat=True))
    assert left == {removal, *(r.pk for r in kept)}
    assert not left & {r.pk for r in superseded}
    assert anime.saved_model.objects.count() == 0


@pytest.mark.parametrize("kind_key", ["anime", "manga"])
def test_undo_brings_back_the_days_and_the_rewatches(user, items, kind_key):
    kind, item = KINDS[kind_key], items[kind_key]
    tracked(kind, user, item)
    removal = unsave_item(user, kind, item.pk)[1]
    assert restore_item(user, kind, item, removal) is Restored.RESTORED
    saved = saved_rows(kind, user, item).get()
    assert (saved.started, saved.finished, saved.rewatches) == (
        date(2025, 6, 7),
        date(2025, 6, 8),
        3,
    )


def test_a_removal_kept_before_the_days_and_rewatches_existed_is_undone(user, items):
    """A tombstone from before migration 0009 lacks the new columns: they come back empty."""
    kind, item = KINDS["anime"], items["anime"]
    tracked(kind, user, item)
    removal = unsave_item(user, kind, item.pk)[1]
    kept = RemovedSave.objects.get(pk=removal)
    for column in ("started", "finished", "rewatches"):
        del kept.data[column]
    kept.save()
    assert restore_item(user, kind, item, removal) is Restored.RESTORED
    saved = saved_rows(kind, user, item).get()
    assert (saved.started, saved.finished, saved.rewatches, saved.score) == (None, None, 0, 7)
