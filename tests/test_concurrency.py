"""Concurrent saves of one item by one person: one row, no error (PostgreSQL only)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from media.feed import status_counts
from media.models import Anime, SavedAnime
from tests.conftest import HTMX, save_url
from tests.test_counts import counted

THREADS = 24

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs real concurrent connections"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_concurrent_saves_make_one_row(user, kind, items):
    item = items[kind.key]
    barrier = threading.Barrier(THREADS)
    statuses, errors = [], []

    def press(headers):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            response = client.post(save_url(kind, item), {"intent": "save"}, **headers)
            statuses.append(response.status_code)
        except Exception as error:  # noqa: BLE001 - every failure is reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=press, args=(HTMX if n % 2 else {},)) for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(set(statuses)) == [200, 303]
    assert len(statuses) == THREADS
    assert kind.saved_model.objects.filter(user=user, **{kind.item_field: item}).count() == 1
    assert status_counts(user)["planned"] == 1


def test_concurrent_edits_end_in_one_submitted_value(user, items):
    item = items["anime"]
    SavedAnime.objects.create(user=user, anime=item)
    barrier = threading.Barrier(THREADS)
    statuses, errors = [], []
    submitted = [str(n % 26 + 1) for n in range(THREADS)]

    def edit(value):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            data = {"episode_progress": value, "status": "in_progress", "note": f"n{value}"}
            response = client.post(f"/track/anime/{item.pk}/", data, **HTMX)
            statuses.append(response.status_code)
        except Exception as error:  # noqa: BLE001 - every failure is reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=(value,)) for value in submitted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert statuses == [200] * THREADS
    saved = SavedAnime.objects.get()
    assert str(saved.episode_progress) in submitted
    assert saved.note == f"n{saved.episode_progress}"  # one submission, not a mix of two


def test_concurrent_status_changes_keep_exact_counts(user):
    # Opposite moves (on hold -> dropped, dropped -> on hold) touch the same two count
    # rows; the triggers lock them in one order, so none of these may deadlock.
    shows = Anime.objects.bulk_create(
        [Anime(title=f"Show {n}", year=2000, episodes=12) for n in range(THREADS // 2)]
    )
    for n, show in enumerate(shows):
        SavedAnime.objects.create(user=user, anime=show, status="on_hold" if n % 2 else "dropped")
    barrier = threading.Barrier(THREADS)
    statuses, errors = [], []

    def move(show, status):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            data = {"episode_progress": "0", "status": status, "note": ""}
            response = client.post(f"/track/anime/{show.pk}/", data, **HTMX)
            statuses.append(response.status_code)
        except Exception as error:  # noqa: BLE001 - every failure is reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=move, args=(shows[n % len(shows)], "dropped" if n % 2 else "on_hold")
        )
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert statuses == [200] * THREADS
    assert status_counts(user) == counted(user)
    assert sum(status_counts(user).values()) == len(shows)
