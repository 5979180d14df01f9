"""Export at scale: each download of `/export/` for the person with 100,000 saves, timed through
the real view (streamed to the end), and the peak memory Python allocates (tracemalloc) while
exporting 1,000 and 100,000 saves: streaming keeps the two alike.

The scale data's anime and manga have no MyAnimeList ids, and a MyAnimeList file leaves out
titles without one: for the measurement every anime and manga gets one, and the person with
1,000 saves is a copy of the big person's first 1,000 saves, all inside a transaction rolled
back at the end, so the benchmark's database is left as it was. `manage.py bench` calls it for
each database (`targets`, `rows`); run it alone, on a database holding the scale data, with

    python -m bench.exports --database URL [--small N]
"""

from __future__ import annotations

import gc
import itertools
import json
import time
import tracemalloc

from bench.catalog_import import big_cells, target_of

SMALL = 1_000
# What each download is called in the table, and its URL.
DOWNLOADS = {
    "Shelf JSON": "/export/shelf.json",
    "CSV": "/export/shelf.csv",
    "MyAnimeList XML (anime)": "/export/anime.xml",
    "MyAnimeList XML (manga)": "/export/manga.xml",
    "MyAnimeList XML (anime), gzipped": "/export/anime.xml.gz",
    "MyAnimeList XML (manga), gzipped": "/export/manga.xml.gz",
}
LIMITS = {"seconds": 15, "memory_ratio": 1.1}
MAL_ID_OFFSET = 10_000_000  # above any id a demo or real title has: no clash on the unique ids


def give_mal_ids() -> None:
    """Every anime and manga without a MyAnimeList id gets one (its own id, offset)."""
    from django.db.models import F

    from media.exports import MAL_KINDS
    from media.kinds import KINDS

    for key in MAL_KINDS:
        model = KINDS[key].item_model
        model.objects.filter(mal_id__isnull=True).update(mal_id=F("id") + MAL_ID_OFFSET)


def person_with_first_saves(source, count: int):
    """A new person whose saves copy `source`'s first `count` (oldest first, every kind)."""
    from django.contrib.auth import get_user_model

    from bench.management.commands.scale_data import keeping_timestamps
    from media.exports import every_save
    from media.kinds import KINDS

    person = get_user_model().objects.create(username=f"export-{count}")
    copies: dict[str, list] = {key: [] for key in KINDS}
    for kind, save in itertools.islice(every_save(source), count):
        columns = {
            field.attname: getattr(save, field.attname)
            for field in kind.saved_model._meta.concrete_fields
            if not field.primary_key
        }
        copies[kind.key].append(kind.saved_model(**columns | {"user_id": person.pk}))
    with keeping_timestamps(*(kind.saved_model for kind in KINDS.values())):
        for key, rows in copies.items():
            KINDS[key].saved_model.objects.bulk_create(rows)
    return person


def download(client, url: str) -> int:
    """Stream one download to its end; its size in bytes."""
    response = client.get(url)
    if response.status_code != 200 or not response.streaming:
        raise RuntimeError(f"{url} answered {response.status_code}, streaming={response.streaming}")
    return sum(len(chunk) for chunk in response.streaming_content)


def peak_kb(client, url: str) -> int:
    gc.collect()
    tracemalloc.start()
    download(client, url)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 1024)


def measure(small: int = SMALL) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client

    from bench.management.commands.scale_data import BIG_USER
    from media.exports import save_count
    from media.kinds import KINDS

    big = get_user_model().objects.get(username=BIG_USER)
    figures: dict = {"saves": save_count(big), "small": small, "downloads": {}}
    with transaction.atomic():
        give_mal_ids()
        few = person_with_first_saves(big, small)
        clients = {}
        for label, person in (("small", few), ("big", big)):
            clients[label] = Client()
            clients[label].force_login(person)
        for name, url in DOWNLOADS.items():
            download(clients["small"], url)  # warm up: imports, caches
            started = time.perf_counter()
            size = download(clients["big"], url)
            seconds = time.perf_counter() - started
            peaks = {label: peak_kb(client, url) for label, client in clients.items()}
            figures["downloads"][name] = {
                "seconds": round(seconds, 2),
                "mb": round(size / 2**20, 1),
                "peak_kb": peaks,
                "memory_ratio": round(peaks["big"] / peaks["small"], 3),
            }
        transaction.set_rollback(True)
    if connection.vendor == "postgresql":  # the rolled-back rows' dead tuples, gone
        with connection.cursor() as cursor:
            for kind in KINDS.values():
                for model in (kind.item_model, kind.saved_model):
                    cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return figures


def targets(database: str, run: dict) -> list[dict]:
    """The export's targets, in `manage.py bench`'s form: time and memory of each download."""
    found = run.get("exports")
    if not found:
        return []
    checks = []
    for name, figures in found["downloads"].items():
        checks.append(
            (f"export {name} of {found['saves']:,} saves", figures["seconds"], "seconds", "s")
        )
        checks.append(
            (f"export {name} memory at {found['saves']:,} ÷ at {found['small']:,} saves",
             figures["memory_ratio"], "memory_ratio", "x")
        )  # fmt: skip
    return [
        target_of(database, name, value, LIMITS[key], unit) for name, value, key, unit in checks
    ]


def rows(runs: dict, columns: list[tuple[str, str]]) -> list[list[str]]:
    """The export's lines of `manage.py bench`'s table (figures in the "big" columns)."""
    found = [run["exports"] for run in runs.values() if "exports" in run]
    if not found:
        return []
    lines = [["**Export (streamed through the view): seconds · MiB · peak Python memory, "
              "small ÷ big**", *[""] * len(columns)]]  # fmt: skip
    for name in found[0]["downloads"]:

        def cell(figures) -> str:
            peak = figures["peak_kb"]
            return (
                f"{figures['seconds']:.1f} s · {figures['mb']:.1f} MiB · {peak['small']:,} ÷ "
                f"{peak['big']:,} KiB = ×{figures['memory_ratio']:.2f}"
            )

        lines.append(
            [
                name,
                *big_cells(
                    runs, "exports", columns, lambda f, name=name: cell(f["downloads"][name])
                ),
            ]
        )
    return lines


def main() -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description="Time each export of the scale data's person.")
    parser.add_argument("--database", required=True, help="a database URL with the scale data")
    parser.add_argument("--small", type=int, default=SMALL)
    options = parser.parse_args()
    os.environ.update(DATABASE_URL=options.database, DEBUG="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.db import connection

    figures = measure(options.small)
    figures["vendor"] = connection.vendor
    print(json.dumps(figures, indent=2))
    for target in targets(figures["vendor"], {"exports": figures}):
        mark = "met" if target["met"] else "MISSED"
        print(f"{target['target']}: {target['value']:g} {target['unit']} "
              f"(limit {target['limit']:g}): {mark}")  # fmt: skip


if __name__ == "__main__":
    main()
