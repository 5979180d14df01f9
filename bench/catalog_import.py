"""The catalog import at scale: `manage.py import_catalog anime-offline-database` on 40,000
generated entries, timed on the database being measured, and its memory at two sizes.

`measure()` writes a file in the dataset's schema (deterministic, written as it is made),
times a first load and a rerun of it, then the peak memory Python allocates (tracemalloc)
while loading 10,000 and 40,000 entries: streaming keeps the two alike. Every load runs
inside a transaction rolled back at the end, so the benchmark's database is left as it was.
`manage.py bench` calls it for each database (`targets`, `rows`); run it alone with

    python -m bench.catalog_import [--database URL] [--entries N]

(default: a throwaway SQLite file; a PostgreSQL URL's database is created when missing).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import tracemalloc
from io import StringIO
from pathlib import Path

ENTRIES, SMALL = 40_000, 10_000
LIMITS = {"load_s": 60, "rerun_s": 15, "memory_ratio": 1.5}
SOURCE = "anime-offline-database"

SYLLABLES = [c + v for c in ("", "k", "s", "t", "n", "h", "m", "r", "y", "w") for v in "aiueo"]
WORDS = ("sky", "blade", "song", "dream", "star", "night", "garden", "school", "spirit")
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわん"
TAGS = [f"tag {n}" for n in range(400)]
STATUSES = ("FINISHED", "FINISHED", "FINISHED", "ONGOING", "UPCOMING", "UNKNOWN")
TYPES = ("TV", "MOVIE", "OVA", "ONA", "SPECIAL", "UNKNOWN")
SEASONS = ("SPRING", "SUMMER", "FALL", "WINTER", "UNDEFINED")
NO_PIC = (
    "https://raw.githubusercontent.com/manami-project/anime-offline-database/master/pics/no_pic.png"
)
HEADER = {
    "$schema": "https://raw.githubusercontent.com/manami-project/anime-offline-database/refs/tags/2025-18/anime-offline-database.schema.json",
    "license": {
        "name": "Open Data Commons Open Database License (ODbL) v1.0 + Database Contents "
        "License (DbCL) v1.0",
        "url": "https://github.com/manami-project/anime-offline-database/blob/2025-18/LICENSE",
    },
    "repository": "https://github.com/manami-project/anime-offline-database",
    "scoreRange": {"minInclusive": 1.0, "maxInclusive": 10.0},
    "lastUpdate": "2025-05-02",
}


def made_up_entry(rng: random.Random, number: int) -> dict:
    """One entry in the dataset's schema; about one in a hundred has no MyAnimeList id."""
    name = " ".join(
        "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))).title()
        for _ in range(rng.randint(1, 3))
    )
    title = f"{name} {rng.choice(WORDS).title()} {number}"
    mal_id = number * 2 + 1  # unique, not dense: like MyAnimeList's own
    sources = [f"https://anidb.net/anime/{number}", f"https://anilist.co/anime/{number + 7}"]
    if rng.random() > 0.01:
        sources.append(f"https://myanimelist.net/anime/{mal_id}")
    year = (
        rng.choice((None, *range(1960, 2027))) if rng.random() < 0.05 else rng.randint(1960, 2026)
    )
    synonyms = [f"{name} {n}" for n in range(rng.randint(0, 6))]
    synonyms += ["".join(rng.choices(KANA, k=rng.randint(3, 9))) for _ in range(rng.randint(0, 3))]
    picture = (
        NO_PIC if rng.random() < 0.05
        else f"https://cdn.myanimelist.net/images/anime/{number % 2000}/{number}.jpg"
    )  # fmt: skip
    return {
        "sources": sources,
        "title": title,
        "type": rng.choice(TYPES),
        "episodes": rng.choice((0, 1, 12, 13, 24, 26, rng.randint(1, 500))),
        "status": rng.choice(STATUSES),
        "animeSeason": {"season": rng.choice(SEASONS), "year": year},
        "picture": picture,
        "thumbnail": picture.replace(".jpg", "t.jpg"),
        "duration": {"value": rng.randint(60, 7200), "unit": "SECONDS"},
        "score": {"arithmeticGeometricMean": 7.1, "arithmeticMean": 7.2, "median": 7.0},
        "synonyms": sorted(set(synonyms)),
        "studios": [rng.choice(WORDS) + " studio"],
        "producers": [rng.choice(WORDS) + " pictures" for _ in range(rng.randint(0, 4))],
        "relatedAnime": [
            f"https://myanimelist.net/anime/{rng.randint(1, 80000)}"
            for _ in range(rng.randint(0, 6))
        ],  # fmt: skip
        "tags": sorted(rng.sample(TAGS, rng.randint(3, 40))),
    }


def write_file(path: Path, count: int, seed: int = 1) -> Path:
    """The minified file, one entry at a time (never the whole list in memory)."""
    rng = random.Random(seed)
    header = json.dumps(HEADER, separators=(",", ":"))[:-1]
    with path.open("w", encoding="utf-8") as out:
        out.write(header + ',"data":[')
        for number in range(1, count + 1):
            if number > 1:
                out.write(",")
            entry = made_up_entry(rng, number)
            out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        out.write("]}")
    return path


def import_file(path: Path) -> str:
    from django.core.management import call_command

    out = StringIO()
    call_command("import_catalog", SOURCE, str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def rolled_back(action):
    """`action()`'s result, its writes undone. On PostgreSQL the rolled-back rows stay behind as
    dead tuples (and dead trigram index entries) until a vacuum: vacuumed here, so the steps and
    runs that follow measure the catalog as it was, not 40,000 dead rows more each time."""
    from django.db import connection, transaction

    with transaction.atomic():
        result = action()
        transaction.set_rollback(True)
    if connection.vendor == "postgresql":
        from media.models import Anime

        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Anime._meta.db_table}")
    return result


def measure(entries: int = ENTRIES, small: int = SMALL) -> dict:
    from media.models import Anime

    figures: dict = {"entries": entries, "anime_before": Anime.objects.count()}
    with tempfile.TemporaryDirectory() as folder:
        big_file = write_file(Path(folder) / "big.json", entries)
        figures["file_mb"] = round(big_file.stat().st_size / 2**20, 1)

        def load_and_rerun() -> None:
            started = time.perf_counter()
            figures["load_summary"] = import_file(big_file)
            figures["load_s"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            figures["rerun_summary"] = import_file(big_file)
            figures["rerun_s"] = round(time.perf_counter() - started, 2)

        rolled_back(load_and_rerun)
        sizes = {"small": (small, write_file(Path(folder) / "small.json", small)),
                 "big": (entries, big_file)}  # fmt: skip
        figures["peak_kb"] = {}
        for label, (count, path) in sizes.items():

            def traced(path=path) -> int:
                tracemalloc.start()
                import_file(path)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                return peak

            figures["peak_kb"][label] = {"entries": count, "kb": round(rolled_back(traced) / 1024)}
    peaks = figures["peak_kb"]
    figures["memory_ratio"] = round(peaks["big"]["kb"] / peaks["small"]["kb"], 3)
    return figures


def target_of(database: str, name: str, value: float, limit: float, unit: str) -> dict:
    """One target in `manage.py bench`'s form (for this module and the other steps')."""
    return {"database": database, "target": name, "value": value, "limit": limit,
            "unit": unit, "met": value <= limit}  # fmt: skip


def big_cells(runs: dict, key: str, columns: list[tuple[str, str]], show) -> list[str]:
    """One line's cells of `manage.py bench`'s table: `show(figures)` in each database's
    "big" column that measured `key`, a dash elsewhere."""
    return [show(runs[d][key]) if p == "big" and key in runs[d] else "–" for d, p in columns]


def targets(database: str, run: dict) -> list[dict]:
    """The import's targets, in `manage.py bench`'s form."""
    found = run.get("catalog_import")
    if not found:
        return []
    names = {
        "load_s": (f"catalog import, first load of {found['entries']:,} anime", "s"),
        "rerun_s": (f"catalog import, rerun of the same {found['entries']:,} anime", "s"),
        "memory_ratio": (
            f"catalog import memory at {found['peak_kb']['big']['entries']:,} ÷ at "
            f"{found['peak_kb']['small']['entries']:,} entries", "x",
        ),
    }  # fmt: skip
    return [
        target_of(database, name, found[key], LIMITS[key], unit)
        for key, (name, unit) in names.items()
    ]


def rows(runs: dict, columns: list[tuple[str, str]]) -> list[list[str]]:
    """The import's lines of `manage.py bench`'s table (figures in the "big" columns)."""
    if not any("catalog_import" in run for run in runs.values()):
        return []

    def cells(show) -> list[str]:
        return big_cells(runs, "catalog_import", columns, show)

    return [
        ["**Catalog import (anime-offline-database, generated)**", *[""] * len(columns)],
        ["first load: seconds", *cells(lambda f: f"{f['load_s']:.1f} s ({f['entries']:,})")],
        ["rerun, nothing changed: seconds", *cells(lambda f: f"{f['rerun_s']:.1f} s")],
        ["peak Python memory, small ÷ big file",
         *cells(lambda f: f"{f['peak_kb']['small']['kb']:,} KiB ÷ {f['peak_kb']['big']['kb']:,}"
                          f" KiB = ×{f['memory_ratio']:.2f}")],
    ]  # fmt: skip


def main() -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description="Time import_catalog on generated entries.")
    parser.add_argument("--database", help="a database URL (default: a throwaway SQLite file)")
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument("--small", type=int, default=SMALL)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database or f"sqlite:///{folder}/catalog-import.sqlite3"
        os.environ.update(DATABASE_URL=url, DEBUG="0")
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
        figures = measure(options.entries, options.small)
        figures["vendor"] = connection.vendor
        connection.close()
    print(json.dumps(figures, indent=2))
    for target in targets(figures["vendor"], {"catalog_import": figures}):
        mark = "met" if target["met"] else "MISSED"
        print(f"{target['target']}: {target['value']:g} {target['unit']} "
              f"(limit {target['limit']:g}): {mark}")  # fmt: skip


if __name__ == "__main__":
    main()
