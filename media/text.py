"""How titles are compared: the same words, whatever their case, accents and punctuation."""

from __future__ import annotations

import re
import unicodedata

_NOT_A_WORD = re.compile(r"[\W_]+")

# Joins a title's names in its search text: a normalised search term never contains it, so a
# match never spans two names.
NAME_SEPARATOR = " | "


def normalize(text: str) -> str:
    """`text` as search compares it: "Steins;Gate" and "steins gate" give "steins gate",
    "Pokémon" gives "pokemon". Letters of any script stay; accents and punctuation go."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_A_WORD.sub(" ", bare.casefold()).strip()


def search_text(title: str, alt_titles=()) -> str:
    """What a title is found by: its name and each alternative name, normalised, once each."""
    names = []
    for name in (title, *alt_titles):
        normal = normalize(name)
        if normal and normal not in names:
            names.append(normal)
    return NAME_SEPARATOR.join(names)
