"""The one HTTP client the providers use: bounded in time, polite, cached, and failing softly.

A call has a budget of seconds for everything (rate-limit waits, requests, retries). It
retries a 429, a 5xx, a timeout or a broken connection with exponential backoff (or the
server's `Retry-After`), but never sleeps past its deadline: it gives up at once instead. Every
failure becomes a `ProviderError`. Answers are kept in the Django cache (shared by every
process), so asking again costs no request and no rate-limit slot.

Time goes through `throttle.clock()` and `throttle.sleep()`, which tests replace.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.core.cache import cache

from media.providers import throttle
from media.providers.base import NotConfigured, NotFound, Unavailable

logger = logging.getLogger("shelf.providers")

T = TypeVar("T")

USER_AGENT = "Shelf/0.1 (+self-hosted)"
CONNECT_TIMEOUT = 3.0
MAX_ATTEMPTS = 5
BACKOFF_FIRST = 0.5  # seconds before the first retry; doubled for each next one
BACKOFF_MOST = 8.0
FOUND_SECONDS = 12 * 60 * 60  # how long an answer is kept (PROVIDER_CACHE_SECONDS)
MISSING_SECONDS = 60 * 60  # how long a 404 is kept (PROVIDER_MISSING_CACHE_SECONDS)

_MISSING = {"__missing__": True}  # what the cache holds for a 404


class KeyRefused(NotConfigured):
    """The provider refused the key or the credentials (HTTP 401)."""


class Client:
    """Asks one provider for JSON within its rate limit; see the module's docstring."""

    def __init__(
        self, key: str, name: str, limits: throttle.Limits, *, refused_message: str = ""
    ) -> None:
        self.key = key
        self.name = name
        self.limits = limits
        self.refused_message = refused_message or f"{name} refused Shelf's requests"

    def get(
        self,
        base_url: str,
        path: str,
        params: dict | None = None,
        *,
        parse: Callable[[Any], T],
        budget: float,
        auth_params: dict | None = None,
        headers: dict | None = None,
    ) -> T:
        """`parse(body)` of the JSON at `base_url + path` with `params`.

        `auth_params` and `headers` carry credentials: they are sent but never part of the
        cache key. `parse` raises `Unavailable` for a body it cannot read; such a body is
        not cached. Raises NotFound (404), KeyRefused (401) or Unavailable.
        """
        params = dict(params or {})
        key = self.cache_key(base_url, path, params)
        cached = cache.get(key)
        if cached == _MISSING:
            raise NotFound(f"{self.name} has no such title")
        if cached is not None:
            return parse(cached)
        try:
            body = self._request(
                f"{base_url}{path}", {**params, **(auth_params or {})}, headers or {}, budget
            )
        except NotFound:
            cache.set(key, _MISSING, setting("PROVIDER_MISSING_CACHE_SECONDS", MISSING_SECONDS))
            raise
        result = parse(body)
        cache.set(key, body, setting("PROVIDER_CACHE_SECONDS", FOUND_SECONDS))
        return result

    def cache_key(self, base_url: str, path: str, params: dict) -> str:
        """The cache's key for an answer: provider, URL and sorted parameters, hashed."""
        text = json.dumps([base_url, path, sorted(params.items())], default=str)
        return f"provider:{self.key}:{hashlib.sha256(text.encode()).hexdigest()}"

    def _request(self, url: str, params: dict, headers: dict, budget: float) -> Any:
        deadline = throttle.clock() + budget
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
        with httpx.Client(headers=headers, follow_redirects=False) as http:
            for attempt in range(MAX_ATTEMPTS):
                throttle.acquire(self.key, self.limits, deadline, name=self.name)
                remaining = deadline - throttle.clock()
                if remaining <= 0:
                    break
                connect = min(CONNECT_TIMEOUT, remaining)
                timeout = httpx.Timeout(remaining, connect=connect, pool=connect)
                try:
                    response = http.get(url, params=params, timeout=timeout)
                except httpx.HTTPError as error:
                    logger.warning("%s: %s on %s", self.name, type(error).__name__, url)
                    wait = backoff(attempt)
                else:
                    wait = self._judge(response, attempt)
                    if wait is None:
                        return self._json(response)
                if attempt + 1 == MAX_ATTEMPTS or throttle.clock() + wait > deadline:
                    break  # another try would not fit in the budget
                throttle.sleep(wait)
        logger.warning("%s: gave up on %s", self.name, url)
        raise Unavailable(f"{self.name} is not reachable right now")

    def _judge(self, response: httpx.Response, attempt: int) -> float | None:
        """None for an answer to read; the seconds to wait before trying again; or raises."""
        status = response.status_code
        if 200 <= status < 300:
            return None
        if status == 404:
            raise NotFound(f"{self.name} has no such title")
        if status == 401:
            logger.warning("%s: 401 on %s", self.name, response.request.url.path)
            raise KeyRefused(self.refused_message)
        if status == 429 or status >= 500:
            logger.warning("%s: %s on %s", self.name, status, response.request.url.path)
            told = retry_after(response.headers.get("Retry-After"))
            return backoff(attempt) if told is None else told
        # Any other answer (400, 403, 422...) will not change by asking again.
        logger.warning("%s: unexpected %s on %s", self.name, status, response.request.url.path)
        raise Unavailable(f"{self.name} is not reachable right now")

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            logger.warning("%s: unreadable JSON (%s)", self.name, error)
            raise Unavailable(f"{self.name} is not reachable right now") from None


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number `attempt + 1`: 0.5, 1, 2, 4, 8, 8..."""
    return min(BACKOFF_FIRST * 2**attempt, BACKOFF_MOST)


def retry_after(value: str | None) -> float | None:
    """A `Retry-After` header in seconds from now (it is seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are GMT, whatever "-0000" says
    return max(0.0, when.timestamp() - throttle.clock())


def setting(name: str, default):
    return getattr(settings, name, default)
