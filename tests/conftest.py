from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from media.kinds import KINDS
from media.models import Anime, Manga, Movie

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # The manifest of hashed names exists only after collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Real password hashing costs a third of a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture
def items(db) -> dict:
    """One catalog item of each kind, keyed like the registry."""
    return {
        "movie": Movie.objects.create(title="Spirited Away", year=2001, runtime_minutes=125),
        "anime": Anime.objects.create(title="Cowboy Bebop", year=1998, episodes=26),
        "manga": Manga.objects.create(title="Akira", year=1982, chapters=120, volumes=6),
    }


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


def save_url(kind, item) -> str:
    return f"/save/{kind.key}/{item.pk}/"


def saved_rows(kind, user, item):
    return kind.saved_model.objects.filter(user=user, **{kind.item_field: item})
