"""Each provider's rate limit, kept across every process (the web workers and the task worker).

A provider's recent request times live in its `media.models.ProviderThrottle` row; a process
takes a slot by locking the row, forgetting the times older than the longest window and
adding its own when every limit allows. When none is free it waits outside the transaction
(so others are not held up) and tries again, or gives up when the wait would pass its deadline.

`clock()` and `sleep()` are the only ways the providers tell and pass time: tests replace them.
"""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction

from media.models import ProviderThrottle
from media.providers.base import Unavailable

Limits = tuple[tuple[int, float], ...]  # (requests, per seconds), every one applies
CLOCK_SKEW = 1.0  # how far ahead another process's clock may be and still count


def clock() -> float:
    """Now, in epoch seconds: one clock every process agrees on (the rows are shared)."""
    return time.time()


def sleep(seconds: float) -> None:
    """Wait `seconds`."""
    time.sleep(seconds)


def _locked_row(provider_key: str) -> ProviderThrottle:
    """The provider's row, locked until the transaction ends; made on first use."""
    rows = ProviderThrottle.objects.select_for_update()
    try:
        return rows.get(provider=provider_key)
    except ProviderThrottle.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return ProviderThrottle.objects.create(provider=provider_key, calls=[])
    except IntegrityError:
        # Another process made it first: wait for its lock like everyone else.
        return rows.get(provider=provider_key)


def wait_for_slot(calls: list[float], limits: Limits, now: float) -> float:
    """Seconds until a request at `now` keeps within every limit, given the sorted `calls`
    (0 when it may go at once). A call exactly `seconds` old is out of that window."""
    wait = 0.0
    for most, seconds in limits:
        recent = [t for t in calls if t > now - seconds]
        if len(recent) >= most:
            # The request that has to leave the window before there is room for one more.
            frees_at = recent[len(recent) - most] + seconds
            wait = max(wait, frees_at - now)
    return wait


def acquire(provider_key: str, limits: Limits, deadline: float, *, name: str = "") -> None:
    """Take a request slot of `provider_key` under `limits`, waiting for one if needed.

    Raises Unavailable ("<name> is busy right now") at once when the wait would pass
    `deadline` (a `clock()` time).
    """
    longest = max(seconds for _, seconds in limits)
    while True:
        with transaction.atomic():
            row = _locked_row(provider_key)
            now = clock()
            # Times well in the future (a clock set back) are dropped, or they would block.
            calls = sorted(
                t
                for t in row.calls
                if isinstance(t, int | float) and now - longest < t <= now + CLOCK_SKEW
            )
            wait = wait_for_slot(calls, limits, now)
            if wait <= 0:
                row.calls = [*calls, now]
                row.save(update_fields=["calls"])
                return
        if now + wait > deadline:
            raise Unavailable(f"{name or provider_key} is busy right now")
        sleep(wait)
