from __future__ import annotations

from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"
    verbose_name = "Catalog and saves"

    def ready(self) -> None:
        # Offline copies (media.pwa): every logout(), whichever view calls it, clears them.
        from django.contrib.auth.signals import user_logged_out

        from media.pwa import forget_offline_copies

        user_logged_out.connect(forget_offline_copies, dispatch_uid="shelf.pwa.signed-out")
