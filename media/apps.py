from __future__ import annotations

from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"
    verbose_name = "Catalog and saves"

    def ready(self) -> None:
        # Connects the sign-in receivers (media.security.forget_failures).
        from media import security  # noqa: F401
