from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from media.models import Movie


def test_second_save_of_same_item_is_refused_by_the_database(kind, user, items):
    item = items[kind.key]
    kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    with pytest.raises(IntegrityError), transaction.atomic():
        kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    assert kind.saved_model.objects.count() == 1


def test_same_item_can_be_saved_by_two_people(kind, user, other_user, items):
    item = items[kind.key]
    kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    kind.saved_model.objects.create(user=other_user, **{kind.item_field: item})
    assert kind.saved_model.objects.filter(**{kind.item_field: item}).count() == 2


def test_saved_tables_name_their_constraint_and_index(kind):
    meta = kind.saved_model._meta
    names = [c.name for c in meta.constraints]
    assert names[0] == f"uniq_user_{kind.key}"
    assert {f"saved_{kind.key}_score_range", f"saved_{kind.key}_note_length"} <= set(names)
    assert [i.name for i in meta.indexes] == [
        f"saved_{kind.key}_user_{sort}" for sort in ("newest", "updated", "title", "score")
    ]
    assert [i.fields for i in meta.indexes[:3]] == [
        ["user", "-created", "-id"],
        ["user", "-updated", "-id"],
        ["user", "item_title", "id"],
    ]
    assert meta.get_field(kind.item_field).related_model is kind.item_model


def test_deleting_an_item_or_user_deletes_its_saves(kind, user, items):
    item = items[kind.key]
    kind.saved_model.objects.create(user=user, **{kind.item_field: item})
    item.delete()
    assert not kind.saved_model.objects.exists()


def test_item_urls(items):
    assert items["movie"].get_absolute_url() == f"/movies/{items['movie'].pk}/"
    assert items["anime"].get_absolute_url() == f"/anime/{items['anime'].pk}/"
    assert items["manga"].get_absolute_url() == f"/manga/{items['manga'].pk}/"
    assert str(items["movie"]) == "Spirited Away (2001)"


def test_catalog_title_and_year_are_unique(db):
    Movie.objects.create(title="Alien", year=1979)
    with pytest.raises(IntegrityError), transaction.atomic():
        Movie.objects.create(title="Alien", year=1979)
    Movie.objects.create(title="Alien", year=2029)  # a remake is another entry


def test_full_clean_skips_only_checks_that_repeat_field_validators(kind, user, items):
    from media.models import FIELD_CHECKS, StartedFinished

    model = kind.saved_model
    skipped = [c.name for c in model._meta.constraints if c.name.endswith(FIELD_CHECKS)]
    # score, status, note, rewatches; progress for a kind that counts; the dates' order (which
    # its clean() says) for a kind with started and finished
    assert len(skipped) == 4 + bool(model.counters) + issubclass(model, StartedFinished)
    [(_, kept)] = model(user=user, **{kind.item_field: items[kind.key]}).get_constraints()
    assert f"uniq_user_{kind.key}" in [c.name for c in kept]
    assert not set(skipped) & {c.name for c in kept}


def test_full_clean_still_checks_a_watch_date_needs_watched(user, items):
    from datetime import date

    from media.models import SavedMovie

    saved = SavedMovie(user=user, movie=items["movie"], watched=False, watched_on=date(2024, 1, 1))
    [(_, kept)] = saved.get_constraints()
    assert "saved_movie_watched_on_needs_watched" in [c.name for c in kept]
    saved.full_clean()  # its clean() drops the date of what was not watched
    assert saved.watched_on is None
