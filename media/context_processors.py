from __future__ import annotations

from media.kinds import KINDS


def kinds(request):
    """The kinds registry, for the navigation bar and filters on every page."""
    return {"kinds": KINDS.values()}
