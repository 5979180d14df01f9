"""django-axes' database handler, made safe for failures that race.

Two failed sign-ins for one name and address at once can both try to create that name's row
(`AccessAttempt` is unique on name, address and browser), and the loser's get_or_create looks
for the winner's row again; if a successful sign-in deleted it meanwhile
(media.security.forget_failures), it finds none and the request ends in IntegrityError, a 500
(seen with the same sign-up posted by several people at once). Counting the failure again
then finds or makes the row as usual."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.db import IntegrityError

ATTEMPTS = 3


class RacingFailuresHandler(AxesDatabaseHandler):
    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return super().user_login_failed(sender, credentials, request, **kwargs)
            except IntegrityError:  # axes' own transaction was rolled back: nothing half-done
                if attempt == ATTEMPTS:
                    raise
