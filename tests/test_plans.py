"""Every query of the dashboard and the catalog pages can be served by an index (PostgreSQL).

The tables here are tiny, so the planner would rightly scan them; with sequential scans
priced out, a "Seq Scan" left in a plan means no index serves that query at all. The
benchmark (`make bench`) shows the same plans at scale, where the planner chooses freely.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from bench.measure import PLAN_PAGES, page_plans
from media.models import SavedAnime, SavedManga, SavedMovie

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
]


def test_no_page_query_needs_a_sequential_scan(auth_client, user, items):
    SavedMovie.objects.create(user=user, movie=items["movie"])
    SavedAnime.objects.create(user=user, anime=items["anime"], status="in_progress")
    SavedManga.objects.create(user=user, manga=items["manga"])
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plans = page_plans(auth_client, {**PLAN_PAGES, "search": "/movies/?q=spirit"})

    pages = {name.split(" #")[0] for name in plans}
    assert pages == set(PLAN_PAGES)  # every page ran queries on Shelf's tables
    assert any(" (generic)" in name for name in plans)
    scans = {name: plan["seq_scans"] for name, plan in plans.items() if plan["seq_scans"]}
    assert scans == {}, "\n\n".join(plans[name]["plan"] for name in scans)
