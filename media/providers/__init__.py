"""Metadata providers: where the catalog's titles come from, and the one way to ask them.

Each provider (`Provider`) finds titles of the kinds it serves and describes one by its id, as
`Record`s in the catalog's vocabulary; it raises only `ProviderError`s (NotConfigured,
Unavailable, NotFound), each with a message for people, and never waits longer than its
budget. `PROVIDERS` lists them by key; a kind's provider is named in the kinds registry
(`media.kinds.Kind.provider_key`), which `for_kind` reads.
"""

from __future__ import annotations

from media.kinds import KINDS
from media.providers.base import (
    NotConfigured,
    NotFound,
    Provider,
    ProviderError,
    Record,
    Unavailable,
)
from media.providers.http import KeyRefused
from media.providers.jikan import Jikan
from media.providers.tmdb import TMDB

PROVIDERS: dict[str, Provider] = {provider.key: provider for provider in (TMDB(), Jikan())}


def for_kind(kind_key: str) -> Provider:
    """The provider that finds titles of the kind `kind_key` ("movie" and "show" give TMDB)."""
    return KINDS[kind_key].provider


__all__ = [
    "PROVIDERS",
    "TMDB",
    "Jikan",
    "KeyRefused",
    "NotConfigured",
    "NotFound",
    "Provider",
    "ProviderError",
    "Record",
    "Unavailable",
    "for_kind",
]
