"""Settings for the gunicorn that tests/test_server.py starts: Shelf's own, with static files
read from the source folders, since a test run has no collectstatic (no manifest of hashed
names, which every page needs once DEBUG is off)."""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
