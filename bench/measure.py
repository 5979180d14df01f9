"""Measurements for `manage.py bench`, taken in one database (the one DATABASE_URL names).

In-process pages run under `bench.settings`, whose URLs add the floor view (`bench.urls`)
beside the real ones; the load over HTTP runs the product itself, as the Procfile starts it.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.management.commands.scale_data import BIG_USER, CROWD_PREFIX, SMALL_USER
from media.feed import saved_feed
from media.kinds import KINDS

HTMX = {"HTTP_HX_REQUEST": "true"}
FORM = "application/x-www-form-urlencoded"
DEEP = 1000  # entries skipped by the deep dashboard page
FEED_ROWS = 50  # "the newest 50 saves" of the feed-versus-floor comparison


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Endpoint:
    """One request the bench repeats: a GET, or a POST whose data may alternate."""

    name: str
    path: str
    method: str = "get"
    data: list[dict] = field(default_factory=lambda: [{}])  # taken in turn, one per request
    headers: dict = field(default_factory=dict)
    expect: int = 200

    def call(self, client: Client, turn: int):
        data = self.data[turn % len(self.data)]
        if self.method == "post":  # encoded as browsers and htmx send a form
            response = client.post(self.path, urlencode(data), content_type=FORM, **self.headers)
        else:
            response = client.get(self.path, data, **self.headers)
        if response.status_code != self.expect:
            raise RuntimeError(f"{self.name}: {self.path} answered {response.status_code}")
        return response


@dataclass
class Person:
    label: str  # "small" (10 saves) or "big" (100,000 saves)
    client: Client
    endpoints: list[Endpoint]


def signed_in(user) -> Client:
    """A client with a real session and CSRF checks on, like a browser."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/accounts/login/")  # sets the csrftoken cookie
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies[settings.CSRF_COOKIE_NAME].value
    return client


def unsaved_item(user, kind):
    saved_ids = kind.saved_model.objects.filter(user=user).values(kind.item_field)
    return kind.item_model.objects.exclude(pk__in=saved_ids).order_by("pk").first()


def saved_item(user, kind):
    return kind.saved_model.objects.filter(user=user).order_by("-created").first()


def first_kind():
    """The kind whose pages and save the bench measures: the registry's first."""
    return next(iter(KINDS.values()))


def counting_kind(user=None):
    """The kind whose +1 the bench measures: the first whose tracking counts (and, given a
    person, of which they have a save: ten saves drawn from four kinds may miss one)."""
    return next(
        kind
        for kind in KINDS.values()
        if kind.saved_model.counters and (user is None or saved_item(user, kind))
    )


def endpoints_for(user, deep: bool) -> list[Endpoint]:
    first, counting = first_kind(), counting_kind(user)
    target = unsaved_item(user, first)
    tracked = saved_item(user, counting)
    counter = counting.saved_model.counters[0]
    total = getattr(tracked.item, counter.total) or 500
    save_path = f"/save/{first.key}/{target.pk}/"
    points = [
        Endpoint("floor (trivial view)", "/bench/floor/"),
        Endpoint("floor, posted", "/bench/floor/", "post"),
        Endpoint("home", "/"),
        Endpoint("list page", f"/{first.slug}/?page=40"),
        Endpoint("search", f"/{first.slug}/?q=silver"),
        Endpoint("search, every kind", "/search/?q=silver"),
        Endpoint("search, every kind, no match", "/search/?q=steins%20gate"),
        Endpoint("item page", saved_item(user, first).item.get_absolute_url()),
        Endpoint("dashboard, first page", "/saved/"),
        Endpoint("dashboard, by title", "/saved/?sort=title"),
        Endpoint("dashboard, by score", "/saved/?sort=score"),
    ]
    if deep:
        cursor = saved_feed(user, per_page=DEEP).next
        points.append(Endpoint(f"dashboard, {DEEP:,} deep", f"/saved/?before={cursor.encode()}"))
    alternate = [{"intent": "save"}, {"intent": "unsave"}]
    points += [
        Endpoint("save/unsave, htmx", save_path, "post", alternate, HTMX),
        Endpoint("save/unsave, plain", save_path, "post", alternate, expect=303),
        Endpoint(
            "tracking edit, htmx",
            f"/track/{counting.key}/{tracked.item.pk}/",
            "post",
            [
                {"only": counter.field, counter.field: str(n)}
                for n in (min(1, total - 1), min(2, total - 1))
            ],
            HTMX,
        ),
    ]
    return points


def in_process(repeat: int) -> dict:
    """Median and p95 of each page, side by side for the two people, with query counts."""
    User = get_user_model()
    people = [
        Person(label, signed_in(user), endpoints_for(user, deep=label == "big"))
        for label, user in (
            ("small", User.objects.get(username=SMALL_USER)),
            ("big", User.objects.get(username=BIG_USER)),
        )
    ]
    results: dict = {}
    for person in people:  # warm up caches, count queries and measure each answer
        for endpoint in person.endpoints:
            answers = []
            for turn in range(len(endpoint.data)):
                endpoint.call(person.client, turn)
            with CaptureQueriesContext(connection) as queries:
                for turn in range(len(endpoint.data)):  # both save and unsave, say
                    answers.append(endpoint.call(person.client, turn))
            results.setdefault(endpoint.name, {})[person.label] = {
                "method": endpoint.method,
                "queries": len(queries) // len(endpoint.data),
                "bytes": max(len(answer.content) for answer in answers),
                "samples": [],
            }
    # Interleaved, so that drift in the machine's speed hits every figure alike, and
    # in a new order each round, so no request always follows the same (heavy) one.
    calls = [(person, endpoint) for person in people for endpoint in person.endpoints]
    order = random.Random(1)
    for turn in range(repeat):
        order.shuffle(calls)
        for person, endpoint in calls:
            start = time.perf_counter()
            endpoint.call(person.client, turn)
            elapsed = (time.perf_counter() - start) * 1000
            results[endpoint.name][person.label]["samples"].append(elapsed)
    for by_person in results.values():
        for figures in by_person.values():
            samples = figures.pop("samples")
            figures["median_ms"] = statistics.median(samples)
            figures["p95_ms"] = percentile(samples, 0.95)
    return results


def dashboard_memory(repeat: int = 5) -> dict:
    """Peak Python memory one dashboard request allocates (median of runs), at 10 saves (a
    half page), 100 and 100,000 saves (full pages)."""
    User = get_user_model()
    figures = {}
    people = (("small", SMALL_USER), ("hundred", f"{CROWD_PREFIX}0001"), ("big", BIG_USER))
    for label, name in people:
        client = signed_in(User.objects.get(username=name))
        client.get("/saved/")
        peaks = []
        for _ in range(repeat):
            tracemalloc.start()
            client.get("/saved/")
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        figures[label] = statistics.median(peaks) / 1024
    return figures


def capture_sql(action) -> list[tuple[str, list]]:
    """The statements (with parameters) that `action` sends to the database."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return statements


def timed_query(sql: str, params: list, repeat: int) -> list[float]:
    samples = []
    with connection.cursor() as cursor:
        for _ in range(repeat):
            start = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def feed_against_floor(repeat: int) -> dict:
    """The feed's queries (the page's keys, then each kind's rows) against the same newest 50
    read from one table of all those saves."""
    user = get_user_model().objects.get(username=BIG_USER)
    statements = capture_sql(lambda: saved_feed(user, per_page=FEED_ROWS))
    selects = []
    for kind in KINDS.values():
        saved, item = kind.saved_model._meta.db_table, kind.item_model._meta.db_table
        selects.append(
            f"SELECT s.user_id, s.created, s.id, s.status, s.score, s.note, s.updated,"
            f" i.id AS item_id, i.title, i.year FROM {saved} s"
            f" JOIN {item} i ON i.id = s.{kind.item_field}_id WHERE s.user_id = %s"
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_floor AS " + " UNION ALL ".join(selects),
            [user.pk] * len(selects),
        )
        cursor.execute("CREATE INDEX bench_floor_newest ON bench_floor (user_id, created, id)")
        cursor.execute("ANALYZE bench_floor")
    floor_sql = (
        "SELECT * FROM bench_floor WHERE user_id = %s ORDER BY created DESC, id DESC LIMIT %s"
    )
    floor_params = [user.pk, FEED_ROWS + 1]  # the feed also reads one row more than it shows
    feed, flat = [], []
    for _ in range(repeat):  # interleaved, as for pages
        feed.append(sum(timed_query(sql, params, 1)[0] for sql, params in statements))
        flat += timed_query(floor_sql, floor_params, 1)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return {
        "feed_ms": statistics.median(feed),
        "floor_ms": statistics.median(flat),
        "ratio": statistics.median(feed) / statistics.median(flat),
        "queries": len(statements),
    }


SEQ_SCAN = re.compile(r"Seq Scan on (media_\w+)")


def plan_pages(search: str = "silver") -> dict[str, str]:
    """The pages whose queries must all be served by an index: home, each kind's list and
    search, and the dashboard in its orders and filters."""
    pages = {"home": "/", "search, every kind": f"/search/?q={search}"}
    for kind in KINDS.values():
        pages[f"{kind.plural} list"] = f"/{kind.slug}/?page=40"
        pages[f"{kind.plural} search"] = f"/{kind.slug}/?q={search}"
    return pages | {
        "dashboard": "/saved/",
        "dashboard, by title": "/saved/?sort=title",
        "dashboard, by score": "/saved/?sort=score",
        "dashboard, in progress": "/saved/?status=in_progress",
    }


def pg_type(value) -> str:
    """The type psycopg gives a Python value it binds, for a PREPARE that states types."""
    for python, sql_type in ((bool, "boolean"), (int, "bigint"), (datetime, "timestamptz"),
                             (date, "date"), (float, "double precision")):  # fmt: skip
        if isinstance(value, python):
            return sql_type
    return "text"


def explain(sql: str, params: list, *, generic: bool) -> str:
    """PostgreSQL's plan for a statement, as run once with these values (custom) or as a
    prepared statement reuses it whatever the values (generic)."""
    with connection.cursor() as cursor:
        if not generic:
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        from psycopg import sql as pgsql

        numbered = iter(range(1, len(params) + 1))
        text = re.sub(r"%s|%%", lambda m: f"${next(numbered)}" if m[0] == "%s" else "%", sql)
        values = ", ".join(pgsql.Literal(p).as_string(cursor.connection) for p in params)
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        types = ", ".join(pg_type(param) for param in params)
        cursor.execute(f"PREPARE shelf_plan{f'({types})' if params else ''} AS {text}")
        try:
            cursor.execute(f"EXPLAIN EXECUTE shelf_plan{f'({values})' if params else ''}")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE shelf_plan")


def page_plans(client: Client, pages: dict[str, str]) -> dict:
    """Custom and generic plans of every query the pages make on Shelf's own tables."""
    plans = {}
    for name, url in pages.items():
        statements = capture_sql(lambda url=url: client.get(url))
        for number, (sql, params) in enumerate(statements):
            if "media_" not in sql:
                continue  # the session and user lookups
            for generic in (False, True):
                plan = explain(sql, params, generic=generic)
                plans[f"{name} #{number}{' (generic)' if generic else ''}"] = {
                    "sql": sql[:300],
                    "plan": plan,
                    "seq_scans": SEQ_SCAN.findall(plan),
                }
    return plans


def query_plans() -> dict:
    """The plans of the dashboard's and the catalog pages' queries at scale (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return {}
    with transaction.atomic():
        return page_plans(signed_in(get_user_model().objects.get(username=BIG_USER)), plan_pages())


# Over HTTP: gunicorn as the Procfile starts it, and wrk on loopback.

WRK_SCRIPT = """
local turn = 0
request = function()
  turn = turn + 1
  local intent = (turn % 2 == 1) and "save" or "unsave"
  return wrk.format("POST", nil, nil, "intent=" .. intent)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_web() -> str:
    for line in (Path(settings.BASE_DIR) / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise RuntimeError("Procfile has no web process")


@contextmanager
def gunicorn(port: int):
    env = os.environ | {
        "PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "project.settings",  # the product, not bench.settings
    }
    process = subprocess.Popen(
        procfile_web(), shell=True, env=env, cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/floor/", timeout=1)
            except urllib.error.HTTPError:
                break  # a 404: it answers, and it is the product, which has no floor view
            except OSError:
                time.sleep(0.1)
            else:
                raise RuntimeError("gunicorn serves the bench's URLs instead of the product's")
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def worker_pids(root: int) -> list[int]:
    """gunicorn's workers: the processes under `root` that have no children of their own."""
    leaves, stack = [], _children(root)
    while stack:
        pid = stack.pop()
        children = _children(pid)
        stack += children
        if not children:
            leaves.append(pid)
    return leaves


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def parse_wrk(output: str) -> dict:
    def number(pattern: str, default: float = 0.0) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else default

    def millis(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not found:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests": int(number(r"(\d+) requests in")),
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "p50_ms": millis("50"),
        "p99_ms": millis("99"),
        "errors": int(number(r"Non-2xx or 3xx responses: (\d+)"))
        + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    }


def over_http(seconds: int, connections: int) -> dict:
    """Requests per second, p50/p99 and errors for three loads, and the workers' peak memory."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    user = get_user_model().objects.get(username=BIG_USER)
    session = Client()
    session.force_login(user)
    session_id = session.cookies[settings.SESSION_COOKIE_NAME].value
    item = saved_item(user, first_kind()).item
    target = unsaved_item(user, first_kind())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results: dict = {}
    with gunicorn(port) as process, tempfile.TemporaryDirectory() as scratch:
        # A real session and a CSRF token from a page, as a browser would hold them.
        opener = urllib.request.build_opener()
        opener.addheaders = [("Cookie", f"{settings.SESSION_COOKIE_NAME}={session_id}")]
        with opener.open(f"{base}{item.get_absolute_url()}") as response:
            cookie = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie.load(header)
            page = response.read().decode()
        csrf_cookie = cookie[settings.CSRF_COOKIE_NAME].value
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        cookies = "; ".join(
            (
                f"{settings.SESSION_COOKIE_NAME}={session_id}",
                f"{settings.CSRF_COOKIE_NAME}={csrf_cookie}",
            )
        )
        script = Path(scratch) / "save.lua"
        script.write_text(WRK_SCRIPT)
        loads = {
            "item page": (item.get_absolute_url(), [], {}),
            "dashboard": ("/saved/", [], {}),
            "save/unsave, htmx": (
                f"/save/{first_kind().key}/{target.pk}/",
                ["--script", str(script)],
                {
                    "HX-Request": "true",
                    "X-CSRFToken": token,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            ),
        }
        for name, (url, extra, headers) in loads.items():
            command = [wrk, "--latency", "-t2", f"-c{connections}", f"-d{seconds}s", *extra]
            for header, value in {"Cookie": cookies, **headers}.items():
                command += ["-H", f"{header}: {value}"]
            output = subprocess.run(
                [*command, base + url], capture_output=True, text=True, check=True
            ).stdout
            results[name] = parse_wrk(output)
        workers = worker_pids(process.pid)
        results["worker_peak_mb"] = max((peak_rss_mb(pid) for pid in workers), default=0.0)
        results["workers"] = len(workers)
    return results
