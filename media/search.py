"""Finding catalog titles by what people type: any part of any of a title's names, whatever
its case, accents and punctuation ("steins gate" finds "Steins;Gate", "Shingeki no Kyojin"
finds Attack on Titan).

Each title keeps its names normalised in `search_text` (`media.text`); a query is normalised
the same way and matched as a substring through each database's index for it: the trigram
index on PostgreSQL, the FTS5 trigram table on SQLite (`media.triggers`, "search index").
This is the one module that knows which.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from media.kinds import Kind
from media.text import normalize
from media.triggers import KindTables, search_table

# How far a count of matches goes: a common word costs no more than a rare one.
COUNT_LIMIT = 1000


def matching(kind: Kind, query: str) -> QuerySet:
    """The titles of `kind` whose names contain `query`: titles that start with it first,
    then by title. Nothing when the query has no letters or digits."""
    model = kind.item_model
    term = normalize(query)
    if not term:
        return model.objects.none()
    pattern = f"%{term}%"  # a normalised term holds neither % nor _
    if connection.vendor == "sqlite":
        fts = search_table(KindTables.of(kind))
        found = model.objects.filter(
            id__in=RawSQL(f"SELECT rowid FROM {fts} WHERE search_text LIKE %s", [pattern])
        )
    else:
        found = model.objects.filter(search_text__contains=term)
    return found.order_by(
        Case(
            When(search_text__startswith=term, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        Lower("title"),
        "year",
        "id",
    )


def count_up_to(matches: QuerySet, limit: int = COUNT_LIMIT) -> int:
    """How many `matches` there are, counting no further than `limit` + 1."""
    return matches.order_by()[: limit + 1].count()
