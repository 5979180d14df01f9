"""Every query of the dashboard and the catalog pages can be served by an index (PostgreSQL).

The tables here are tiny, so the planner would rightly scan them; with sequential scans
priced out, a "Seq Scan" left in a plan means no index serves that query at all. The
benchmark (`make bench`) shows the same plans at scale, where the planner chooses freely.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from bench.measure import page_plans, plan_pages
from media.kinds import KINDS

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner"),
]


def test_no_page_query_needs_a_sequential_scan(auth_client, user, items):
    for kind in KINDS.values():
        kind.saved_model.objects.create(
            user=user, status="in_progress", **{kind.item_field: items[kind.key]}
        )
    pages = plan_pages(search="a")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plans = page_plans(auth_client, pages)

    assert {name.split(" #")[0] for name in plans} == set(pages)  # each ran Shelf's queries
    assert any(" (generic)" in name for name in plans)
    scans = {name: plan["seq_scans"] for name, plan in plans.items() if plan["seq_scans"]}
    assert scans == {}, "\n\n".join(plans[name]["plan"] for name in scans)
