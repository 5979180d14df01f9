"""What `make run` and `make dev` say before serving: where to open Shelf, and, while nobody can
sign in to /admin/, how to make that account."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from project.selfhost import is_wildcard

LOOPBACK = {"localhost", "127.0.0.1", "[::1]"}


def addresses(host: str, port: str) -> list[str]:
    """The URLs a browser can use: this machine's, then (serving the network) the others."""
    if not is_wildcard(host):
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return [f"http://{shown}:{port}/"]
    # Wildcards (".example.com", "*") name no one address to open.
    others = [h for h in settings.ALLOWED_HOSTS if h not in LOOPBACK and h[:1] not in ".*"]
    return [f"http://127.0.0.1:{port}/"] + [f"http://{h}:{port}/" for h in others]


class Command(BaseCommand):
    help = "Say where Shelf is served and, while there is no admin account, how to create one."

    def handle(self, *args, **options):
        host = os.environ.get("HOST", "").strip() or "127.0.0.1"
        port = os.environ.get("PORT", "").strip() or "8000"
        first, *others = addresses(host, port)
        self.stdout.write(f"Shelf will be at {first}")
        if others:
            self.stdout.write(
                "From a phone or another computer on this network, one of: " + ", ".join(others)
            )
            self.stdout.write(
                "(Installing Shelf as an app and reading it offline need HTTPS: "
                'README.md, "Self-hosting".)'
            )
        if not get_user_model().objects.filter(is_superuser=True).exists():
            python = os.path.relpath(sys.executable)
            if python.startswith(".."):
                python = sys.executable
            self.stdout.write(
                "No admin account yet. To create one (it signs in to /admin/ too), run:\n"
                f"    {python} manage.py createsuperuser"
            )
