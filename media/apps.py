from __future__ import annotations

from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"
    verbose_name = "Catalog and saves"

    def ready(self) -> None:
        # Offline copies (media.pwa): every logout(), whichever view calls it, clears them, and
        # every sign-in's session knows when it ends.
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from media.pwa import forget_offline_copies, remember_session_end

        user_logged_out.connect(forget_offline_copies, dispatch_uid="shelf.pwa.signed-out")
        user_logged_in.connect(remember_session_end, dispatch_uid="shelf.pwa.signed-in")
        # Connects the sign-in receivers (media.security.forget_failures).
        from media import security  # noqa: F401
