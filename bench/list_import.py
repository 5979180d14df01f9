"""A person's list import at scale: a 10,000-entry MyAnimeList XML whose titles are all in the
catalog, previewed and imported on the database being measured.

`measure()` adds 10,000 anime with MyAnimeList ids and a person, writes the file, then times
what the person waits for: the preview (the upload read and kept, the worker's matching,
the preview page rendered) and the import (the worker's apply, one transaction). A second
upload of the same file is previewed again: everything must be unchanged. All of it runs in
a transaction rolled back at the end, so the benchmark's database is left as it was.
`manage.py bench` calls it for each database (`targets`, `rows`); run it alone with

    python -m bench.list_import [--database URL] [--entries N]
"""

from __future__ import annotations

import json
import random
import tempfile
import time

from bench.catalog_import import big_cells, target_of

ENTRIES = 10_000
LIMITS = {"preview_s": 10, "apply_s": 10}
FIRST_MAL_ID = 900_000_000  # far above MyAnimeList's own ids, so none clashes with the catalog's
STATUSES = ("Watching", "Completed", "On-Hold", "Dropped", "Plan to Watch")


def entry(rng: random.Random, number: int, episodes: int) -> str:
    status = rng.choice(STATUSES)
    watched = episodes if status == "Completed" else rng.randint(0, episodes - 1)
    if status == "Plan to Watch":
        watched = 0
    start = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
    return (
        f"<anime><series_animedb_id>{FIRST_MAL_ID + number}</series_animedb_id>"
        f"<series_title><![CDATA[Bench Import {number}]]></series_title>"
        f"<series_type>TV</series_type><series_episodes>{episodes}</series_episodes>"
        f"<my_id>0</my_id><my_watched_episodes>{watched}</my_watched_episodes>"
        f"<my_start_date>{start if watched else '0000-00-00'}</my_start_date>"
        "<my_finish_date>0000-00-00</my_finish_date>"
        f"<my_score>{rng.randint(0, 10)}</my_score><my_status>{status}</my_status>"
        f"<my_comments><![CDATA[{'Note ' * rng.randint(0, 3)}]]></my_comments>"
        f"<my_times_watched>{rng.randint(0, 2)}</my_times_watched>"
        "<my_rewatching>0</my_rewatching><update_on_import>1</update_on_import></anime>\n"
    )


def mal_file(entries: int, episodes: dict[int, int], seed: int = 1) -> bytes:
    rng = random.Random(seed)
    body = "".join(entry(rng, n, episodes[n]) for n in range(entries))
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        "<!-- Created by XML Export feature at MyAnimeList.net. Version 1.1.0 -->\n"
        "<myanimelist><myinfo><user_export_type>1</user_export_type></myinfo>\n"
        f"{body}</myanimelist>\n"
    ).encode()


def measure(entries: int = ENTRIES) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.catalog_import import rolled_back
    from media import importing
    from media.models import Anime, Import, SavedAnime, SavedCount

    figures: dict = {"entries": entries}

    def run() -> None:
        rng = random.Random(7)
        episodes = {n: rng.randint(1, 50) for n in range(entries)}
        Anime.objects.bulk_create(
            [
                Anime(title=f"Bench Import {n}", year=2000 + n % 25, episodes=episodes[n],
                      mal_id=FIRST_MAL_ID + n)
                for n in range(entries)
            ],
            batch_size=1000,
        )  # fmt: skip
        person = get_user_model().objects.create_user("bench-importer")
        client = Client()
        client.force_login(person)
        data = mal_file(entries, episodes)
        figures["file_mb"] = round(len(data) / 2**20, 2)

        def preview() -> tuple[Import, float, str]:
            started = time.perf_counter()
            imp = importing.start_import(person, "animelist.xml", data)
            importing.match_import.call(imp.pk)  # what the worker does
            page = client.get(f"/import/{imp.pk}/")
            elapsed = time.perf_counter() - started
            assert page.status_code == 200, page.status_code
            imp.refresh_from_db()
            return imp, elapsed, page.content.decode()

        imp, figures["preview_s"], page = preview()
        assert f"New ({entries:,})" in page or f"New ({entries})" in page, "not all new"
        started = time.perf_counter()
        importing.request_apply(imp, importing.KEEP)
        importing.apply_import.call(imp.pk, importing.KEEP)  # what the worker does
        figures["apply_s"] = time.perf_counter() - started
        imp.refresh_from_db()
        figures["applied"] = imp.summary
        figures["saves"] = SavedAnime.objects.filter(user=person).count()
        again, figures["repreview_s"], page = preview()
        figures["reimport_unchanged"] = importing.build_plan(again).counts["unchanged"]

    rolled_back(run)
    if connection.vendor == "postgresql":  # the rolled-back rows' dead tuples, gone
        with connection.cursor() as cursor:
            for model in (SavedAnime, Import, SavedCount, get_user_model()):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    for key in ("preview_s", "apply_s", "repreview_s"):
        figures[key] = round(figures[key], 2)
    return figures


def targets(database: str, run: dict) -> list[dict]:
    """The list import's targets, in `manage.py bench`'s form."""
    found = run.get("list_import")
    if not found:
        return []
    count = f"{found['entries']:,}"
    names = {
        "preview_s": f"list import, preview of a {count}-entry MyAnimeList XML",
        "apply_s": f"list import, import of the same {count} entries",
    }
    return [target_of(database, name, found[key], LIMITS[key], "s") for key, name in names.items()]


def rows(runs: dict, columns: list[tuple[str, str]]) -> list[list[str]]:
    """The list import's lines of `manage.py bench`'s table (figures in the "big" columns)."""
    if not any("list_import" in run for run in runs.values()):
        return []

    def cells(show) -> list[str]:
        return big_cells(runs, "list_import", columns, show)

    return [
        ["**List import (MyAnimeList XML, titles in the catalog)**", *[""] * len(columns)],
        ["preview: upload, matching, page",
         *cells(lambda f: f"{f['preview_s']:.1f} s ({f['entries']:,})")],
        ["import: one transaction",
         *cells(lambda f: f"{f['apply_s']:.1f} s ({f['saves']:,} saves)")],
        ["same file again: preview, all unchanged",
         *cells(lambda f: f"{f['repreview_s']:.1f} s ({f['reimport_unchanged']:,} unchanged)")],
    ]  # fmt: skip


def main() -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description="Time a MyAnimeList list import.")
    parser.add_argument("--database", help="a database URL (default: a throwaway SQLite file)")
    parser.add_argument("--entries", type=int, default=ENTRIES)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database or f"sqlite:///{folder}/list-import.sqlite3"
        os.environ.update(DATABASE_URL=url, DEBUG="0", ALLOWED_HOSTS="testserver")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 50)
        import django

        if url.startswith("postgres"):
            from bench.management.commands.bench import ensure_postgres_database

            ensure_postgres_database(url)
        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # the page's manifest
        figures = measure(options.entries)
        figures["vendor"] = connection.vendor
        connection.close()
    print(json.dumps(figures, indent=2))
    for target in targets(figures["vendor"], {"list_import": figures}):
        mark = "met" if target["met"] else "MISSED"
        print(f"{target['target']}: {target['value']} {target['unit']} "
              f"(limit {target['limit']}): {mark}")  # fmt: skip


if __name__ == "__main__":
    main()
