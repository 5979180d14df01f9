"""Concurrent requests of one person: one row, one submission, exact counts, no error
(PostgreSQL only: SQLite takes writers one at a time)."""

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


def post_together(user, posts: list[tuple[str, dict, dict]]) -> list[int]:
    """Send every (url, data, headers) post at the same moment, each from its own thread
    and connection, signed in as `user`; the statuses, after checking none raised."""
    barrier = threading.Barrier(len(posts))
    statuses, errors = [], []

    def post(url, data, headers):
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            statuses.append(client.post(url, data, **headers).status_code)
        except Exception as error:  # noqa: BLE001 - every failure is reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=args) for args in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(statuses) == len(posts)
    return statuses


def test_concurrent_saves_make_one_row(user, kind, items):
    item = items[kind.key]
    posts = [
        (save_url(kind, item), {"intent": "save"}, HTMX if n % 2 else {}) for n in range(THREADS)
    ]
    assert sorted(set(post_together(user, posts))) == [200, 303]
    assert kind.saved_model.objects.filter(user=user, **{kind.item_field: item}).count() == 1
    assert status_counts(user)["planned"] == 1


def test_concurrent_edits_end_in_one_submitted_value(user, items):
    item = items["anime"]
    SavedAnime.objects.create(user=user, anime=item)
    submitted = [str(n % 26 + 1) for n in range(THREADS)]
    posts = [
        (
            f"/track/anime/{item.pk}/",
            {"episode_progress": value, "status": "in_progress", "note": f"n{value}"},
            HTMX,
        )
        for value in submitted
    ]
    assert post_together(user, posts) == [200] * THREADS
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
    posts = [
        (
            f"/track/anime/{shows[n % len(shows)].pk}/",
            {"episode_progress": "0", "status": "dropped" if n % 2 else "on_hold", "note": ""},
            HTMX,
        )
        for n in range(THREADS)
    ]
    assert post_together(user, posts) == [200] * THREADS
    assert status_counts(user) == counted(user)
    assert sum(status_counts(user).values()) == len(shows)


def test_concurrent_undos_restore_one_row_once(user, kind, items):
    from media.models import RemovedSave
    from media.services import unsave_item

    item = items[kind.key]
    kind.saved_model.objects.create(user=user, note="kept", **{kind.item_field: item})
    removal = unsave_item(user, kind, item.pk)[1]
    data = {"intent": "undo", "removal": str(removal)}
    posts = [(save_url(kind, item), data, HTMX if n % 2 else {}) for n in range(THREADS)]
    assert sorted(set(post_together(user, posts))) == [200, 303]
    assert kind.saved_model.objects.get(user=user).note == "kept"
    assert not RemovedSave.objects.exists()
    assert status_counts(user) == counted(user)


def test_concurrent_adds_of_one_provider_title_make_one_row(user, network):
    from media.kinds import KINDS
    from tests.test_search import naruto_detail

    network.get(url__startswith="https://jikan.test/v4/anime/20").respond(json=naruto_detail())
    KINDS["anime"].provider.fetch("anime", 20)  # cached: the race is the catalog's insert
    post = ("/add/anime/", {"provider_id": 20, "intent": "save"}, {})
    statuses = post_together(user, [post] * THREADS)
    assert set(statuses) == {303}
    assert Anime.objects.filter(mal_id=20).count() == 1
    assert SavedAnime.objects.filter(user=user, anime__mal_id=20).count() == 1


def test_concurrent_uploads_leave_one_open_import(user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from media.models import Import
    from tests.test_importing import anime_entry, mal_file

    Anime.objects.create(title="Cowboy Bebop", year=1998, episodes=26, mal_id=1)
    data = mal_file(anime_entry(1, "Cowboy Bebop", watched=3))
    posts = [
        ("/import/", {"file": SimpleUploadedFile("animelist.xml", data)}, {}) for _ in range(8)
    ]
    assert set(post_together(user, posts)) <= {303, 409}
    assert Import.objects.filter(user=user, state__in=Import.OPEN).count() == 1
    assert not SavedAnime.objects.exists()


def test_concurrent_import_presses_import_once(user):
    from media.models import Import
    from tests.test_importing import anime_entry, mal_file, open_import, upload

    for n in range(1, 31):
        Anime.objects.create(title=f"Show {n}", year=2000, episodes=12, mal_id=n)
    client = Client()
    client.force_login(user)
    upload(client, mal_file(*(anime_entry(n, f"Show {n}", watched=n % 12) for n in range(1, 31))))
    imp = open_import(user)
    posts = [(f"/import/{imp.pk}/apply/", {"conflicts": "take"}, {}) for _ in range(THREADS)]
    assert set(post_together(user, posts)) == {303}
    imp.refresh_from_db()
    assert imp.state == Import.State.DONE and imp.summary["new"] == 30
    assert SavedAnime.objects.filter(user=user).count() == 30
    assert status_counts(user) == counted(user)  # the counts the triggers keep agree


def lower_while_raising(lower, raise_progress) -> Exception | None:
    """`lower()` runs in a transaction of its own thread and holds it open while
    `raise_progress()` runs here; then it commits. What `raise_progress()` raised, if anything.
    Without a lock, each would pass its guard against the other's old state."""
    from django.db import transaction

    lowered, release = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def refresh():
        try:
            with transaction.atomic():
                lower()
                lowered.set()
                release.wait(timeout=30)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
            lowered.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=refresh)
    thread.start()
    assert lowered.wait(timeout=30)
    timer = threading.Timer(1.0, release.set)  # commit the lowering while the edit waits on it
    timer.start()
    raised = None
    try:
        raise_progress()
    except Exception as error:  # noqa: BLE001 - returned to the test
        raised = error
    thread.join(timeout=30)
    timer.cancel()
    assert errors == []
    return raised


@pytest.mark.parametrize("kind_key", ["anime", "show"])
def test_a_total_lowered_while_progress_is_raised_cannot_both_pass(user, kind_key):
    """A refresh lowering a total (a season's episodes) and an edit raising progress past the
    new one take turns (the edit's guard share-locks the item): the edit is refused."""
    from django.db import IntegrityError

    from media.models import SavedShow, Show

    if kind_key == "anime":
        item = Anime.objects.create(title="Shrinking", year=2020, episodes=10)
        saved = SavedAnime.objects.create(user=user, anime=item, episode_progress=2)
        lower = lambda: Anime.objects.filter(pk=item.pk).update(episodes=6)  # noqa: E731
        rows, progress = SavedAnime.objects.filter(pk=saved.pk), {"episode_progress": 8}
    else:
        seasons = [{"number": 1, "episodes": 10}]
        item = Show.objects.create(title="Shrinking", year=2020, seasons=seasons)
        saved = SavedShow.objects.create(user=user, show=item, season_progress=1)
        six = [{"number": 1, "episodes": 6}]
        lower = lambda: Show.objects.filter(pk=item.pk).update(seasons=six)  # noqa: E731
        rows, progress = SavedShow.objects.filter(pk=saved.pk), {"episode_progress": 8}
    raised = lower_while_raising(lower, lambda: rows.update(**progress))
    assert isinstance(raised, IntegrityError), raised
    assert rows.values_list(*progress, flat=True).get() == (2 if kind_key == "anime" else 0)
