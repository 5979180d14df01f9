"""Browser tests: a real Chromium against pytest-django's live server.

Each test opens its own browser contexts (JavaScript on or off, a viewport of its
choosing) through pytest-playwright's `new_context`, so failures leave screenshots in
test-results/. The catalog is made per test with the ORM.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response, expect

from media.kinds import KINDS, Kind
from media.models import Anime, Manga, Movie
from tests.conftest import _test_settings, network  # noqa: F401 - the same settings as tests/

# Playwright's sync API runs an event loop in this thread, so Django would refuse the ORM
# calls the tests make to check rows (SynchronousOnlyOperation). Django reads this at each
# call, so setting it here, before any test runs, is enough.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Debian's Chromium, or the build named by CHROMIUM; Playwright's own browser otherwise.
SYSTEM_CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "shelf-e2e-Passw0rd!"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, plus Debian's Chromium when it is installed."""
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if SYSTEM_CHROMIUM.exists():
        args["executable_path"] = str(SYSTEM_CHROMIUM)
    return args


@dataclass
class Traffic:
    """What one page asked for and what went wrong on it, recorded from its events."""

    requests: list[Request] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    in_flight: int = 0

    def watch(self, page: Page) -> None:
        page.on("request", self._on_request)
        page.on("requestfinished", self._on_done)
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)
        page.on("pageerror", self._on_page_error)
        page.on("console", self._on_console)

    def _on_request(self, request: Request) -> None:
        self.requests.append(request)
        self.in_flight += 1

    def _on_done(self, request: Request) -> None:
        self.in_flight -= 1

    def _on_failed(self, request: Request) -> None:
        self.in_flight -= 1
        # A navigation that replaces the page cancels what the old page still loaded.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"{request.method} {request.url} failed: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} for {response.request.method} {response.url}")

    def _on_page_error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def posts(self, path: str | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.method == "POST" and (path is None or r.url.endswith(path))
        ]

    def clear(self) -> None:
        self.requests.clear()

    def excuse(self, response: Response, logged: ConsoleMessage) -> None:
        """Take one answer the test expected to fail off the problems, with the console
        error the browser logged for it ("Failed to load resource"); each must be there
        exactly once, so any other failure still counts."""
        assert logged.type == "error", logged.type
        assert f"status of {response.status}" in logged.text, logged.text
        assert logged.location["url"] == response.url, logged.location
        answer = f"{response.status} for {response.request.method} {response.url}"
        for problem in (answer, f"console error: {logged.text}"):
            assert self.problems.count(problem) == 1, (problem, self.problems)
            self.problems.remove(problem)

    def settle(self, page: Page) -> None:
        """Wait until every request the page started has finished (or failed)."""
        while self.in_flight > 0:
            page.wait_for_event("requestfinished")


class CspViolations(logging.Handler):
    """Every Content-Security-Policy violation of a test: those the browser reported to the
    live server (the policy's report-uri, logged by media.views.security; sent with JavaScript
    on or off) and those it logged to a page's console (JavaScript on). The `csp` fixture
    fails the test on any it did not `take`."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reported: list[str] = []
        self.logged: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.reported.append(record.getMessage())

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.logged.append(message.text)

    def take(self, count: int, timeout: float = 10) -> list[str]:
        """Wait until the server has `count` reports, and take them (and the console's lines)
        off the list: for a test that breaks the policy on purpose."""
        deadline = time.monotonic() + timeout
        while len(self.reported) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        taken = list(self.reported)
        assert len(taken) >= count, taken
        self.reported.clear()
        self.logged.clear()
        return taken


@pytest.fixture(autouse=True)
def csp():
    """Fails any browser test on a CSP violation. Autouse, so it is set up first and checks
    last, after the browser contexts have closed (and sent what they had to report)."""
    violations = CspViolations()
    logger = logging.getLogger("shelf.csp")
    logger.addHandler(violations)
    try:
        yield violations
    finally:
        logger.removeHandler(violations)
    problems = violations.reported + [f"console: {line}" for line in violations.logged]
    assert not problems, "Content-Security-Policy violations:\n" + "\n".join(problems)


def wait_until(page: Page, expression: str, arg=None, timeout: float = 10) -> None:
    """`page.wait_for_function`, within the CSP: Playwright compiles that one's predicate with
    eval inside the page, which the policy refuses (and the `csp` fixture reports), while
    `page.evaluate` runs from outside the page's policy. Polls every 50 ms."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


@dataclass
class Visitor:
    page: Page
    traffic: Traffic
    js: bool


@pytest.fixture
def visit(new_context, csp):
    """Open a fresh browser context and page: `visit(js=False, viewport=PHONE)`."""

    def _visit(*, js: bool = True, viewport: dict | None = None) -> Visitor:
        # Service workers run as in any browser (the offline tests need them).
        context = new_context(
            java_script_enabled=js, viewport=viewport or DESKTOP, service_workers="allow"
        )
        page = context.new_page()
        traffic = Traffic()
        traffic.watch(page)
        csp.watch(page)
        return Visitor(page, traffic, js)

    return _visit


@dataclass(frozen=True)
class Entry:
    """One catalog item and what the tests need to know about it."""

    kind: Kind
    item: Movie | Anime | Manga

    @property
    def title(self) -> str:
        return self.item.title

    @property
    def path(self) -> str:
        return self.item.get_absolute_url()

    @property
    def save_path(self) -> str:
        return reverse("media:save", kwargs={"kind": self.kind.key, "pk": self.item.pk})

    @property
    def track_path(self) -> str:
        return reverse("media:track", kwargs={"kind": self.kind.key, "pk": self.item.pk})

    def saved_rows(self, user):
        return self.kind.saved_model.objects.filter(user=user, **{self.kind.item_field: self.item})


@pytest.fixture
def catalog(transactional_db) -> dict[str, Entry]:
    """Four items of all three kinds (two movies), by a short name."""
    items = {
        "spirited": Movie.objects.create(
            title="Spirited Away",
            year=2001,
            runtime_minutes=125,
            synopsis="A girl wanders into a world of spirits and works in a bathhouse.",
        ),
        "paprika": Movie.objects.create(title="Paprika", year=2006, runtime_minutes=90),
        "bebop": Anime.objects.create(
            title="Cowboy Bebop",
            year=1998,
            episodes=26,
            synopsis="Bounty hunters drift through the solar system in 2071.",
        ),
        "akira": Manga.objects.create(title="Akira", year=1982, chapters=120, volumes=6),
    }
    return {name: Entry(KINDS[item.kind_key], item) for name, item in items.items()}


@pytest.fixture
def member(transactional_db):
    """A person with an account who is not signed in yet."""
    return get_user_model().objects.create_user("grace", password=PASSWORD)


@pytest.fixture(scope="session")
def standin_server():
    """The providers' stand-in (e2e/standin.py), one for the whole run."""
    from e2e.standin import StandIn

    server = StandIn().start()
    yield server
    server.shutdown()


@pytest.fixture
def providers(standin_server, settings):
    """Shelf's providers pointed at the stand-in, with a TMDB key, up and with no history."""
    settings.JIKAN_API_URL = f"{standin_server.url}/jikan/v4"
    settings.TMDB_API_URL = f"{standin_server.url}/tmdb/3"
    settings.TMDB_API_KEY = "0123456789abcdef0123456789abcdef"
    settings.TMDB_IMAGE_URL = f"{standin_server.url}/images/t/p"  # never the real image host
    # Its posters come from its own address: the CSP's img-src must name it (defences).
    settings.SHELF_IMAGE_HOSTS = [standin_server.url.split("//", 1)[1]]
    standin_server.requests.clear()
    standin_server.down = False
    return standin_server
