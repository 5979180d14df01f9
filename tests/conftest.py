from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from media.kinds import KINDS

HTMX = {"HTTP_HX_REQUEST": "true"}
PROVIDER_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "providers"
TMDB_URL = "https://tmdb.test/3"  # where TMDB is during the tests (`_test_settings`)
V3_KEY = "0123456789abcdef0123456789abcdef"
START = 1_700_000_000.0  # the providers' throttle clock at the start of a test (`fake_time`)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # The manifest of hashed names exists only after collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Real password hashing costs a third of a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run as they are enqueued, inside the test.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # A cache of the test's own, empty at its start.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    # No key unless a test sets one; providers are never the real services.
    settings.TMDB_API_KEY = ""
    settings.TMDB_API_URL = TMDB_URL
    settings.JIKAN_API_URL = "https://jikan.test/v4"
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def network():
    """The only way out: any HTTP request a test has not routed here fails it (respx), whoever
    sends it; requests to this machine (the browser tests' stand-in provider) pass.
    A test routes what it needs: `network.get("https://jikan.test/v4/anime/1").respond(...)`."""
    import respx

    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(host="localhost").pass_through()
        yield router


class FakeTime:
    """A clock that moves only when something sleeps, and a record of every sleep."""

    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def elapsed(self) -> float:
        return self.now - START


@pytest.fixture
def fake_time(monkeypatch) -> FakeTime:
    """The providers' throttle on a fake clock: a test of them never waits."""
    from media.providers import throttle

    fake = FakeTime()
    monkeypatch.setattr(throttle, "clock", fake.clock)
    monkeypatch.setattr(throttle, "sleep", fake.sleep)
    return fake


@pytest.fixture
def tmdb_key(settings):
    settings.TMDB_API_KEY = V3_KEY
    return V3_KEY


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("ada", password="correct horse battery")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("grace", password="correct horse battery")


@pytest.fixture
def auth_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Titles whose facts the tests know; a kind not named here gives its first demo title.
KNOWN_TITLES = {"movie": "Spirited Away", "anime": "Cowboy Bebop", "manga": "Akira"}


def demo_item(kind):
    """An item of `kind` made from its demo rows."""
    rows = kind.demo_rows()
    row = next((r for r in rows if r["title"] == KNOWN_TITLES.get(kind.key)), rows[0])
    return kind.item_model.objects.create(**row)


@pytest.fixture
def items(db) -> dict:
    """One catalog item of each registered kind, keyed like the registry."""
    return {key: demo_item(kind) for key, kind in KINDS.items()}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


def save_url(kind, item) -> str:
    return f"/save/{kind.key}/{item.pk}/"


def saved_rows(kind, user, item):
    return kind.saved_model.objects.filter(user=user, **{kind.item_field: item})
