"""The worker's catalog refresh: what it takes from a provider, what it keeps, what it skips,
how it counts failures, and how it keeps exactly one refresh queued. Providers are fakes."""

from __future__ import annotations

import json
import logging
import signal
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from media import tasks
from media.kinds import KINDS
from media.models import Anime, Manga, Movie, ReleaseStatus, SavedAnime
from media.providers import NotFound, ProviderError, Record, Unavailable

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
ANIME, MANGA, MOVIE = KINDS["anime"], KINDS["manga"], KINDS["movie"]


def record(kind, provider_id, title, status=ReleaseStatus.RELEASING, **totals) -> Record:
    id_field = kind.item_model.provider_id_field
    return Record(
        provider=kind.provider_key,
        kind=kind.key,
        ids={id_field: provider_id},
        title=title,
        alt_titles=(),
        year=None,
        synopsis="",
        totals=totals,
        poster_url="",
        release_status=status,
    )


class FakeProvider:
    """Answers `fetch` from `answers` ((kind, id) → Record or error) and notes each call."""

    def __init__(self, name: str, *, configured: bool = True) -> None:
        self.name, self.configured = name, configured
        self.answers: dict = {}
        self.calls: list = []

    def fetch(self, kind_key, provider_id, *, budget=None):
        self.calls.append((kind_key, provider_id, budget))
        answer = self.answers[(kind_key, provider_id)]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def providers(monkeypatch):
    fakes = {"tmdb": FakeProvider("TMDB", configured=False), "jikan": FakeProvider("Jikan")}
    monkeypatch.setattr("media.providers.PROVIDERS", fakes)
    return fakes


@pytest.fixture
def db_queue(settings):
    """The database backend for this test, as in production."""
    settings.TASKS = DB_BACKEND


def airing(title, mal_id, episodes, **fields) -> Anime:
    return Anime.objects.create(
        title=title, mal_id=mal_id, episodes=episodes, release_status=ReleaseStatus.RELEASING,
        **fields,
    )  # fmt: skip


def queued():
    return DBTaskResult.objects.filter(
        task_path="media.tasks.refresh_catalog", status=TaskResultStatus.READY
    )


def test_a_grown_total_is_taken(db, providers):
    one_piece = airing("One Piece", 21, 1100)
    providers["jikan"].answers[("anime", 21)] = record(ANIME, 21, "One Piece", episodes=1110)
    result = tasks.refresh_catalog.enqueue()  # the tests' immediate backend runs it here
    assert result.status == TaskResultStatus.SUCCESSFUL
    one_piece.refresh_from_db()
    assert one_piece.episodes == 1110
    assert one_piece.refreshed is not None
    assert result.return_value["kinds"]["anime"]["refreshed"] == 1
    assert providers["jikan"].calls == [("anime", 21, tasks.WORKER_BUDGET)]
    json.dumps(result.return_value)


def test_a_total_below_tracked_progress_is_kept_and_logged(db, providers, user, caplog):
    show = airing("Frieren", 52991, 24)
    SavedAnime.objects.create(user=user, anime=show, episode_progress=20)
    providers["jikan"].answers[("anime", 52991)] = record(ANIME, 52991, "Frieren", episodes=12)
    with caplog.at_level(logging.WARNING, logger="shelf.catalog"):
        summary = tasks.refresh_titles([ANIME])
    show.refresh_from_db()
    assert show.episodes == 24
    assert show.refreshed is not None  # read, and so not due again until tomorrow
    assert summary["kinds"]["anime"]["unchanged"] == 1
    assert summary["failed"] == 0
    assert "Kept episodes of anime Frieren" in caplog.text
    assert "below the 20 someone tracked" in caplog.text


def test_an_unknown_total_does_not_erase_a_known_one(db, providers):
    show = airing("Dandadan", 57334, 12)
    providers["jikan"].answers[("anime", 57334)] = record(ANIME, 57334, "Dandadan", episodes=None)
    tasks.refresh_titles([ANIME])
    show.refresh_from_db()
    assert show.episodes == 12


def test_titles_not_due_are_not_fetched(db, providers):
    airing("Read an hour ago", 1, 10, refreshed=timezone.now() - timedelta(hours=1))
    Anime.objects.create(title="Finished", mal_id=2, episodes=26, release_status="finished")
    Anime.objects.create(title="Local, no provider id", release_status="releasing")
    airing("Read two days ago", 3, 10, refreshed=timezone.now() - timedelta(days=2))
    providers["jikan"].answers[("anime", 3)] = record(ANIME, 3, "Read two days ago", episodes=11)
    summary = tasks.refresh_titles([ANIME])
    assert [call[:2] for call in providers["jikan"].calls] == [("anime", 3)]
    assert summary["refreshed"] == 1


def test_a_provider_error_for_one_title_does_not_stop_the_others(db, providers, caplog):
    for mal_id in (1, 2, 3, 4):
        airing(f"Show {mal_id}", mal_id, 10)
    jikan = providers["jikan"]
    jikan.answers[("anime", 1)] = ProviderError("Jikan answered nonsense.")
    jikan.answers[("anime", 2)] = record(ANIME, 2, "Show 2", episodes=12)
    jikan.answers[("anime", 3)] = NotFound("Jikan does not know anime 3.")
    jikan.answers[("anime", 4)] = record(ANIME, 4, "Show 4", episodes=10)
    with caplog.at_level(logging.WARNING, logger="shelf.worker"):
        result = tasks.refresh_catalog.enqueue()
    assert result.status == TaskResultStatus.SUCCESSFUL
    anime = result.return_value["kinds"]["anime"]
    assert (anime["refreshed"], anime["unchanged"], anime["failed"], anime["not_found"]) == (
        1, 1, 1, 1,
    )  # fmt: skip
    assert "Jikan answered nonsense." in caplog.text
    # A title its provider no longer knows is left exactly as it was.
    gone = Anime.objects.get(mal_id=3)
    assert (gone.title, gone.episodes, gone.refreshed) == ("Show 3", 10, None)


def test_a_provider_that_is_down_is_given_up_for_the_run(db, providers):
    for mal_id in range(1, 7):
        airing(f"Show {mal_id}", mal_id, 10)
    for mal_id in range(1, 7):
        providers["jikan"].answers[("anime", mal_id)] = Unavailable("Jikan is down.")
    anime = tasks.refresh_titles([ANIME])["kinds"]["anime"]
    assert len(providers["jikan"].calls) == tasks.GIVE_UP_AFTER
    assert (anime["failed"], anime["skipped"]) == (tasks.GIVE_UP_AFTER, 6 - tasks.GIVE_UP_AFTER)
    assert "unavailable" in anime["note"]


def test_an_unconfigured_provider_is_skipped(db, providers, caplog):
    Movie.objects.create(title="Dune", tmdb_id=438631, release_status="upcoming")
    Manga.objects.create(title="One Piece", mal_id=13, chapters=1100, release_status="releasing")
    providers["jikan"].answers[("manga", 13)] = record(MANGA, 13, "One Piece", chapters=1120)
    with caplog.at_level(logging.INFO, logger="shelf.worker"):
        summary = tasks.refresh_titles()
    assert providers["tmdb"].calls == []
    assert summary["kinds"]["movie"]["note"] == "TMDB is not configured"
    assert summary["kinds"]["manga"]["refreshed"] == 1
    tmdb_kinds = [kind for kind in KINDS.values() if kind.provider_key == "tmdb"]
    assert caplog.text.count("TMDB is not configured") == len(tmdb_kinds)  # once per kind
    assert "Movies: skipped (TMDB is not configured)" in tasks.summary_lines(summary)


def test_the_refresh_queues_exactly_one_run_for_tomorrow(db, providers, db_queue):
    before = timezone.now()
    tasks.refresh_catalog.call()
    tasks.refresh_catalog.call()
    (row,) = queued()
    assert row.backend_name == "default"
    assert before + timedelta(days=1) <= row.run_after <= timezone.now() + timedelta(days=1)


def test_ensure_daily_refresh_is_idempotent(db, providers, db_queue):
    first = tasks.ensure_daily_refresh()
    assert first is not None
    assert tasks.ensure_daily_refresh() is None
    assert tasks.schedule_next_refresh() is None  # one is pending: no second
    assert queued().count() == 1
    assert str(queued().get().id) == first.id


def test_nothing_is_queued_without_the_database_backend(db, providers):
    assert tasks.ensure_daily_refresh() is None
    assert not DBTaskResult.objects.exists()


def run_command(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("refresh_catalog", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_refreshes_and_summarises(db, providers):
    airing("A", 1, 10)
    airing("B", 2, 10)
    providers["jikan"].answers[("anime", 1)] = record(ANIME, 1, "A", episodes=11)
    providers["jikan"].answers[("anime", 2)] = ProviderError("Jikan is confused.")
    out, err = run_command("--kind", "anime")
    assert out.splitlines() == [
        "Anime: 1 refreshed, 0 unchanged, 1 failed",
        "1 title failed (see the log above): they stay due for the next refresh.",
    ]
    assert "Anime: 0/2 titles" in err  # not a terminal: plain lines of progress
    assert "Anime: 2/2 titles" in err


def test_the_command_all_and_limit(db, providers):
    recent = timezone.now() - timedelta(hours=1)
    for mal_id in (1, 2, 3):
        Anime.objects.create(title=f"S{mal_id}", mal_id=mal_id, release_status="finished")
        providers["jikan"].answers[("anime", mal_id)] = record(
            ANIME, mal_id, f"S{mal_id}", "finished"
        )
    Anime.objects.filter(mal_id=1).update(refreshed=recent)
    out, _ = run_command("--kind", "anime")
    assert "Anime: 0 refreshed, 0 unchanged, 0 failed" in out
    out, _ = run_command("--kind", "anime", "--all", "--limit", "2")
    assert "Anime: 0 refreshed, 2 unchanged, 0 failed" in out
    assert [call[1] for call in providers["jikan"].calls] == [2, 3]  # never read first


def test_the_command_refuses_an_unknown_kind(db, providers):
    with pytest.raises(CommandError, match="Unknown kind 'book': choose from movie, anime"):
        run_command("--kind", "anime", "--kind", "book")
    assert providers["jikan"].calls == []


def test_the_progress_bar_redraws_on_a_terminal(db, providers):
    from media.management.commands.refresh_catalog import ProgressBar

    class Terminal(StringIO):
        def isatty(self):
            return True

    from django.core.management.base import OutputWrapper

    screen = Terminal()
    bar = ProgressBar(OutputWrapper(screen))
    for done in range(3):
        bar(ANIME, done, 2)
    assert screen.getvalue() == (
        f"\rAnime    [{'-' * 30}] 0/2"
        f"\rAnime    [{'#' * 15}{'-' * 15}] 1/2"
        f"\rAnime    [{'#' * 30}] 2/2\n"
    )


@pytest.fixture
def restore_signals():
    """db_worker installs its own SIGINT/SIGTERM handlers: put pytest's back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_the_worker_queues_the_refresh_and_runs_it(providers, db_queue, restore_signals):
    show = airing("One Piece", 21, 1100)
    providers["jikan"].answers[("anime", 21)] = record(ANIME, 21, "One Piece", episodes=1110)
    out = StringIO()
    call_command(
        "worker", "--max-tasks=1", "--no-reload", "--no-startup-delay", "--interval=0",
        verbosity=0, stdout=out,
    )  # fmt: skip
    show.refresh_from_db()
    assert show.episodes == 1110
    (ran,) = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL)
    assert ran.return_value["kinds"]["anime"]["refreshed"] == 1
    (tomorrow,) = queued()
    assert tomorrow.run_after > timezone.now() + timedelta(hours=23)
    # Started again, it finds tomorrow's queued and adds none.
    call_command("worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert list(queued()) == [tomorrow]
    assert DBTaskResult.objects.count() == 2
