from __future__ import annotations

from media.kinds import KINDS, kinds_in_words


def kinds(request):
    """The kinds registry, for the navigation bar and filters on every page."""
    return {"kinds": KINDS.values(), "kinds_in_words": kinds_in_words()}
