"""Slow work, run by the worker (`manage.py worker`, the Procfile's `worker:`).

The catalog's daily refresh: every title a provider may have news of
(`media.catalog.due_for_refresh`) is read again and applied by `media.catalog.refresh_item`,
whose rules decide what changes (a total that grows is taken, one that would drop below
tracked progress is kept and logged, an unknown value never erases a known one). One title's
failure is logged and counted, never the end of the run.

The queue is django-tasks' database backend, so "is a refresh pending?" is a question to its
table: each run queues the next for a day later unless one is pending already, and the
worker queues one when it starts if none is, so there is always exactly one.
`manage.py refresh_catalog` runs the same refresh (`refresh_titles`) in the foreground.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import connections
from django.db.models import F
from django.utils import timezone
from django_tasks import TaskResult, TaskResultStatus, task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from media.catalog import due_for_refresh, refresh_item
from media.importing import abandon_stale
from media.kinds import KINDS, Kind
from media.providers import NotConfigured, NotFound, ProviderError, Unavailable

logger = logging.getLogger("shelf.worker")

# The longest the worker waits on a provider for one title, retries included, in seconds:
# nobody is waiting on a page, so it can sit out a rate limit a page could not.
WORKER_BUDGET = 60.0
# How often the refresh runs.
REFRESH_EVERY = timedelta(days=1)
# A provider that is unavailable for this many titles in a row is down: the rest of its
# kind waits for the next run instead of each title waiting out the budget.
GIVE_UP_AFTER = 3
# Titles read from the database at a time (their ids are listed first, so that the
# refreshed ones, which move to the end of the order, are not met again).
CHUNK = 100
# Serialises "is one pending? if not, queue one" across processes on PostgreSQL.
QUEUE_LOCK = zlib.crc32(b"shelf.refresh_catalog")

# Called after each title: (kind, titles done, titles to do).
Progress = Callable[[Kind, int, int], None]


@dataclass
class Tally:
    """What a refresh did to the titles of one kind."""

    refreshed: int = 0  # read again, and something changed
    unchanged: int = 0  # read again, nothing new
    failed: int = 0  # the provider could not answer (or applying its answer failed)
    not_found: int = 0  # the provider no longer knows the id: left as it is
    skipped: int = 0  # not tried: the provider is not configured, or is down
    note: str = ""  # why some were skipped

    def line(self, kind: Kind) -> str:
        """The tally in words: "Anime: 12 refreshed, 30 unchanged, 1 failed"."""
        if self.note and not (self.refreshed or self.unchanged or self.failed or self.not_found):
            return f"{kind.plural}: skipped ({self.note})"
        words = f"{self.refreshed} refreshed, {self.unchanged} unchanged, {self.failed} failed"
        if self.not_found:
            words += f", {self.not_found} not found"
        if self.skipped:
            words += f", {self.skipped} skipped"
        if self.note:
            words += f" ({self.note})"
        return f"{kind.plural}: {words}"


def _provider(kind: Kind):
    """The kind's provider, or None when no provider of that name is installed."""
    try:
        return kind.provider
    except KeyError:
        return None


def titles_to_refresh(kind: Kind, *, everything: bool = False):
    """The titles of `kind` a refresh reads: the due ones (`due_for_refresh`), or with
    `everything` every title that has a provider id, the least recently read first."""
    if not everything:
        return due_for_refresh(kind)
    model = kind.item_model
    return model.objects.filter(**{f"{model.provider_id_field}__isnull": False}).order_by(
        F("refreshed").asc(nulls_first=True), "id"
    )


def _refresh_kind(
    kind: Kind, *, everything: bool, limit: int | None, budget: float, progress: Progress | None
) -> Tally:
    tally = Tally()
    provider = _provider(kind)
    if provider is None or not provider.configured:
        name = getattr(provider, "name", kind.provider_key)
        tally.note = f"{name} is not configured"  # said once, in the kind's summary line
        return tally
    pks = titles_to_refresh(kind, everything=everything).values_list("pk", flat=True)
    pks = list(pks[:limit] if limit is not None else pks)
    total, done, down_streak = len(pks), 0, 0
    if progress:
        progress(kind, 0, total)
    for start in range(0, total, CHUNK):
        chunk = pks[start : start + CHUNK]
        items = kind.item_model.objects.in_bulk(chunk)
        for pk in chunk:
            item = items.get(pk)  # None: deleted since the ids were listed
            if item is not None:
                outcome = _refresh_one(kind, item, budget, tally)
                down_streak = down_streak + 1 if outcome == "unavailable" else 0
                if outcome == "not configured" or down_streak >= GIVE_UP_AFTER:
                    tally.skipped = total - done - 1
                    tally.note = (
                        f"{provider.name} is not configured"
                        if outcome == "not configured"
                        else f"{provider.name} is unavailable; the rest wait for the next run"
                    )
                    logger.warning("Refresh: %s stopped early: %s", kind.plural, tally.note)
                    if progress:
                        progress(kind, total, total)
                    return tally
            done += 1
            if progress:
                progress(kind, done, total)
    return tally


def _refresh_one(kind: Kind, item, budget: float, tally: Tally) -> str:
    """Refresh one title, counting the outcome in `tally`; the outcome's name."""
    try:
        changed = refresh_item(kind, item, budget=budget)
    except NotFound as error:
        tally.not_found += 1
        logger.warning(
            "Refresh: %s %s (pk %s, id %s) left as it is: %s",
            kind.key, item.title, item.pk, item.provider_id, error.message,
        )  # fmt: skip
        return "not found"
    except NotConfigured as error:
        tally.failed += 1
        logger.warning("Refresh: %s %s: %s", kind.key, item.title, error.message)
        return "not configured"
    except ProviderError as error:
        tally.failed += 1
        logger.warning(
            "Refresh: %s %s (pk %s, id %s) failed: %s",
            kind.key, item.title, item.pk, item.provider_id, error.message,
        )  # fmt: skip
        return "unavailable" if isinstance(error, Unavailable) else "failed"
    except Exception:
        # A bad answer, or a write the database refused (someone tracked past the new total
        # meanwhile): this title fails, the others go on.
        tally.failed += 1
        logger.exception("Refresh: %s %s (pk %s) failed", kind.key, item.title, item.pk)
        return "failed"
    if changed:
        tally.refreshed += 1
        return "refreshed"
    tally.unchanged += 1
    return "unchanged"


def refresh_titles(
    kinds: Iterable[Kind] | None = None,
    *,
    everything: bool = False,
    limit: int | None = None,
    budget: float = WORKER_BUDGET,
    progress: Progress | None = None,
) -> dict:
    """Read again the due titles of `kinds` (all kinds by default) from their providers.

    `everything` reads every title with a provider id instead of the due ones; `limit` reads
    at most that many of each kind. A kind whose provider is not configured is skipped. The
    summary is JSON: the totals, and each kind's under "kinds" (`Tally`'s fields).
    """
    summary: dict = {"refreshed": 0, "unchanged": 0, "failed": 0, "not_found": 0, "skipped": 0}
    summary["kinds"] = {}
    for kind in KINDS.values() if kinds is None else kinds:
        tally = _refresh_kind(
            kind, everything=everything, limit=limit, budget=budget, progress=progress
        )
        logger.info("Refresh: %s", tally.line(kind))
        summary["kinds"][kind.key] = asdict(tally)
        for name in ("refreshed", "unchanged", "failed", "not_found", "skipped"):
            summary[name] += getattr(tally, name)
    return summary


def summary_lines(summary: dict) -> list[str]:
    """A refresh's summary in words, a line per kind."""
    return [Tally(**tally).line(KINDS[key]) for key, tally in summary["kinds"].items()]


@task()
def refresh_catalog() -> dict:
    """The daily refresh. It queues tomorrow's first, so that a run cut short (a deploy,
    a crash) still leaves the next one queued. Uploads of imports nobody finished go too."""
    schedule_next_refresh()
    abandon_stale()
    return refresh_titles()


def _queued_refreshes():
    """The refreshes waiting in the queue (not the one running)."""
    return DBTaskResult.objects.filter(
        task_path=refresh_catalog.module_path,
        backend_name=refresh_catalog.backend,
        status=TaskResultStatus.READY,
    )


def queued_refresh() -> DBTaskResult | None:
    """The next refresh waiting in the queue, if any."""
    return _queued_refreshes().order_by("run_after").first()


@contextmanager
def _queue_lock():
    """One process at a time between looking for a pending refresh and queueing one."""
    alias = DBTaskResult.objects.db
    with exclusive_transaction(alias):  # SQLite: the write lock up front
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [QUEUE_LOCK])
        yield


def ensure_daily_refresh(run_after: datetime | None = None) -> TaskResult | None:
    """Queue a refresh (for `run_after`, or as soon as a worker is free) unless one is
    queued already; the new one's result, or None. Run it as often as you like: there is
    only ever one refresh waiting. Only the database backend keeps a queue to look at."""
    if not isinstance(refresh_catalog.get_backend(), DatabaseBackend):
        logger.info("Refresh: not queued, the task backend is not the database's")
        return None
    with _queue_lock():
        if _queued_refreshes().exists():
            return None
        queued = refresh_catalog.using(run_after=run_after).enqueue()
    logger.info("Refresh: queued for %s", run_after or "now")
    return queued


def schedule_next_refresh() -> TaskResult | None:
    """Queue the refresh for a day from now, unless one is queued already."""
    return ensure_daily_refresh(timezone.now() + REFRESH_EVERY)
