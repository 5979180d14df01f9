"""Load and faults: Shelf under mixed load, killed mid-load, and flooded with wrong passwords.

    python bench/loadfault.py [--database sqlite|postgresql] [--seconds 60]   (make loadfault)

For each database (a temporary SQLite file; a scratch PostgreSQL database, dropped and made
again) it migrates, creates people and titles, and starts the web server exactly as the
Procfile's `web:` line says (read at run time, bound to 127.0.0.1) beside the Procfile's
`worker:`. Then:

1. **Load**: one client thread per person signs in through the real form and, for `--seconds`,
   browses (home, lists, dashboard, item pages, search), saves and unsaves (htmx and plain
   posts), edits tracking (htmx and plain), and imports a MyAnimeList file (upload, wait for
   the preview, import, wait for the result). Every write the client sees acknowledged (2xx or
   3xx, an import shown as imported) goes into its ledger.
2. **Fault**: half-way, the server's process group and the worker's get SIGKILL together; both
   start again and the clients carry on.
3. **Flood**: 300 wrong passwords for one account in about 40 s, while another person's page is
   timed before and during.
4. **Checks**, with everything stopped: every acknowledged write is in the database (a value
   later changed by a request that got no answer may be either); nothing is half-written
   (integrity check, the trigger-kept counts against the rows, each imported file's rows all or
   none); the logs hold no "database is locked" and no traceback.

It prints one table and exits 1 if anything answered 5xx, was locked, lost or half-written.
Only loopback is contacted: the providers' URLs point at a closed local port.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "load-and-fault-password"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/shelf_loadfault"
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TOGGLED = 12  # titles each person saves and unsaves
IMPORTED = 8  # titles in each person's import file
TOTAL = 500  # episodes of every load-test anime: progress never reaches it
MAL_BASE = 900_000  # MyAnimeList ids of the load-test anime: far from real ones
LOCKED = "database is locked"


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# What the clients saw, and what the database must hold.


@dataclass
class Ledger:
    """The writes one client sent, in order: (key, value, acknowledged)."""

    writes: list[tuple[str, object, bool]] = field(default_factory=list)

    def record(self, key: str, value, acknowledged: bool) -> None:
        self.writes.append((key, value, acknowledged))


def allowed_values(writes: list[tuple[str, object, bool]], initial: dict) -> dict[str, set]:
    """For each key, the values the database may hold: the last acknowledged one and every
    one sent after it without an answer (it may or may not have been committed); with no
    acknowledged write, the initial value and the unanswered ones."""
    allowed: dict[str, set] = {}
    for key, value, acknowledged in writes:
        if acknowledged:
            allowed[key] = {value}
        else:
            allowed.setdefault(key, {initial.get(key)}).add(value)
    return allowed


def lost_writes(
    writes: list[tuple[str, object, bool]], initial: dict, actual: dict
) -> tuple[int, int, list[str]]:
    """(lost, unconfirmed, what was lost): a key whose stored value is none of those allowed
    was lost; a key whose last write got no answer is unconfirmed."""
    allowed = allowed_values(writes, initial)
    last_answered = {key: acknowledged for key, _, acknowledged in writes}
    lost = [
        f"{key}: stored {actual.get(key)!r}, expected one of {sorted(map(repr, values))}"
        for key, values in allowed.items()
        if actual.get(key) not in values
    ]
    unconfirmed = sum(1 for acknowledged in last_answered.values() if not acknowledged)
    return len(lost), unconfirmed, lost


def import_values(number: int) -> tuple[int, int]:
    """(episodes watched, score) that import number `number` of a person sets on every title."""
    return number, number % 10 + 1


def import_number(filename: str) -> int | None:
    found = re.fullmatch(r"load-\d+-(\d+)\.xml", filename)
    return int(found.group(1)) if found else None


def mal_xml(titles: list[tuple[int, str]], number: int) -> bytes:
    """A MyAnimeList anime export of `titles` (MyAnimeList id, title) with import `number`'s
    values."""
    episodes, score = import_values(number)
    entries = "".join(
        f"<anime><series_animedb_id>{mal_id}</series_animedb_id>"
        f"<series_title><![CDATA[{title}]]></series_title><series_episodes>{TOTAL}"
        f"</series_episodes><my_watched_episodes>{episodes}</my_watched_episodes>"
        f"<my_score>{score}</my_score><my_status>Watching</my_status>"
        "<my_times_watched>0</my_times_watched><my_rewatching>0</my_rewatching>"
        "<update_on_import>1</update_on_import></anime>"
        for mal_id, title in titles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><myanimelist><myinfo><user_export_type>1'
        f"</user_export_type></myinfo>{entries}</myanimelist>"
    ).encode()


def log_problems(text: str) -> dict[str, int]:
    """What the server's and worker's logs say went wrong."""
    return {"locked": text.count(LOCKED), "tracebacks": text.count("Traceback (most recent")}


# The database side: setting up, then checking (run inside the child, Django set up).


def seed(clients: int) -> dict:
    """People, titles and their starting state; what the clients need to know."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from media.kinds import KINDS
    from media.models import ReleaseStatus

    User = get_user_model()
    now = timezone.now()
    browse = {}
    for kind in KINDS.values():  # the demo titles, for pages to show: none due for a refresh
        for row in kind.demo_rows()[:30]:
            row = row | {"release_status": ReleaseStatus.FINISHED, "refreshed": now}
            item = kind.item_model(**row)
            item.save()
            browse.setdefault(kind.key, []).append(item.pk)
    anime = KINDS["anime"].item_model
    people = []
    for number in range(clients):
        user = User.objects.create_user(f"load{number}", password=PASSWORD)
        titles = []
        for index in range(TOGGLED + 1 + IMPORTED):
            mal_id = MAL_BASE + number * 100 + index
            item = anime(
                title=f"Load anime {number}-{index}",
                year=2000,
                episodes=TOTAL,
                mal_id=mal_id,
                release_status=ReleaseStatus.FINISHED,
                refreshed=now,
            )
            item.save()
            titles.append((item.pk, mal_id, item.title))
        tracked = titles[TOGGLED]
        KINDS["anime"].saved_model.objects.create(user=user, anime_id=tracked[0])
        people.append(
            {
                "username": user.username,
                "user_id": user.pk,
                "toggled": [pk for pk, _, _ in titles[:TOGGLED]],
                "tracked": tracked[0],
                "imported": [(mal_id, title) for _, mal_id, title in titles[TOGGLED + 1 :]],
                "imported_pks": [pk for pk, _, _ in titles[TOGGLED + 1 :]],
            }
        )
    for name in ("flooded", "timer"):
        User.objects.create_user(name, password=PASSWORD)
    return {"people": people, "browse": browse}


def actual_state(person: dict) -> tuple[dict, dict]:
    """(initial, actual) values of a person's ledger keys, as the database holds them now."""
    from media.kinds import KINDS
    from media.models import Import

    saved = KINDS["anime"].saved_model
    rows = {
        row.anime_id: row
        for row in saved.objects.filter(
            user_id=person["user_id"],
            anime_id__in=[*person["toggled"], person["tracked"]],
        )
    }
    initial = {f"save {pk}": False for pk in person["toggled"]}
    initial[f"track {person['tracked']}"] = 0
    initial["import"] = None
    actual = {f"save {pk}": pk in rows for pk in person["toggled"]}
    tracked = rows.get(person["tracked"])
    actual[f"track {person['tracked']}"] = tracked.episode_progress if tracked else None
    done = (
        Import.objects.filter(user_id=person["user_id"], state=Import.State.DONE)
        .order_by("-pk")
        .values_list("filename", flat=True)
        .first()
    )
    actual["import"] = import_number(done) if done else None
    return initial, actual


def half_written(people: list[dict]) -> list[str]:
    """Anything stored half: a failed integrity check, counts the triggers keep that disagree
    with the rows, an import whose titles are not all as its file says, an import closed with
    its rows still kept."""
    from django.db import connection
    from django.db.models import Count

    from media.kinds import KINDS
    from media.models import Import, SavedCount

    found = []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            result = "; ".join(row[0] for row in cursor.fetchall())
            if result != "ok":
                found.append(f"integrity check: {result}")
            cursor.execute("PRAGMA foreign_key_check")
            found += [f"foreign key: {row}" for row in cursor.fetchall()]
    counted = {
        (row.user_id, row.kind, row.status): row.saves
        for row in SavedCount.objects.filter(saves__gt=0)
    }
    real = {}
    for kind in KINDS.values():
        for row in kind.saved_model.objects.values("user_id", "status").annotate(n=Count("pk")):
            real[(row["user_id"], kind.key, row["status"])] = row["n"]
    if counted != real:
        wrong = set(counted.items()) ^ set(real.items())
        found.append(f"status counts differ from the rows: {sorted(wrong)[:5]}")
    closed = Import.objects.exclude(state__in=Import.OPEN).exclude(rows=[])
    found += [
        f"import {pk} is closed but keeps its rows" for pk in closed.values_list("pk", flat=True)
    ]
    saved = KINDS["anime"].saved_model
    for person in people:
        rows = list(
            saved.objects.filter(user_id=person["user_id"], anime_id__in=person["imported_pks"])
        )
        done = (
            Import.objects.filter(user_id=person["user_id"], state=Import.State.DONE)
            .order_by("-pk")
            .values_list("filename", flat=True)
            .first()
        )
        number = import_number(done) if done else None
        expected = import_values(number) if number is not None else None
        if expected is None and rows:
            found.append(f"{person['username']}: {len(rows)} imported titles, no import done")
        elif expected is not None:
            stored = [(row.episode_progress, row.score) for row in rows]
            if len(rows) != len(person["imported_pks"]) or set(stored) != {expected}:
                found.append(
                    f"{person['username']}: titles of {done} stored as {sorted(set(stored))}"
                    f" ({len(rows)} of {len(person['imported_pks'])}), expected {expected}"
                )
    return found


def open_imports() -> dict[str, int]:
    """Imports left matching or applying: the work the kill interrupted."""
    from media.models import Import

    return dict(
        Counter(Import.objects.filter(state__in=Import.OPEN).values_list("state", flat=True))
    )


# The clients.


class Stats:
    """Every answer's status ("not connected": the server was down; "no answer": it died with
    the request sent) and time, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.times: list[float] = []
        self.unexpected: Counter = Counter()

    def add(self, what: str, status, elapsed: float, expected: tuple) -> None:
        with self.lock:
            self.statuses[status] += 1
            if isinstance(status, int):
                self.times.append(elapsed)
                if status not in expected:
                    self.unexpected[f"{what} {status}"] += 1


class Client:
    """One person's browser: a cookie jar, the CSRF token, and what it wrote."""

    def __init__(self, base: str, person: dict, browse: dict, stats: Stats, number: int) -> None:
        import httpx

        self.http = httpx.Client(base_url=base, timeout=httpx.Timeout(15.0, connect=2.0))
        self.person, self.browse, self.stats = person, browse, stats
        self.random = random.Random(number)
        self.ledger = Ledger()
        self.saved = dict.fromkeys(person.get("toggled", []), False)
        self.progress = 0
        self.imports = 0  # files uploaded so far
        self.import_url: str | None = None
        self.import_step = "upload"
        self.import_deadline = 0.0
        self.import_blocked = False
        self.sent = False  # whether the last request reached the server

    def request(self, what: str, method: str, url: str, expected=(200,), **kwargs):
        """The answer, or None when there was none (the server was down or died mid-answer)."""
        import httpx

        headers = kwargs.pop("headers", {})
        if method == "POST":
            headers["X-CSRFToken"] = self.http.cookies.get("csrftoken", "")
        start = time.perf_counter()
        self.sent = True
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            self.sent = False  # the server was down: the request never left
            self.stats.add(what, "not connected", 0.0, expected)
            time.sleep(0.05)
            return None
        except httpx.HTTPError:
            self.stats.add(what, "no answer", 0.0, expected)
            time.sleep(0.05)
            return None
        self.stats.add(what, response.status_code, time.perf_counter() - start, expected)
        return response

    def sign_in(self, username: str | None = None, password: str = PASSWORD) -> int | None:
        self.request("sign-in page", "GET", "/accounts/login/")
        response = self.request(
            "sign-in",
            "POST",
            "/accounts/login/",
            (302, 303),
            data={"username": username or self.person["username"], "password": password},
        )
        return response.status_code if response is not None else None

    def step(self) -> None:
        roll = self.random.random()
        if roll < 0.45:
            self.browse_page()
        elif roll < 0.70:
            self.toggle()
        elif roll < 0.90:
            self.track()
        else:
            self.import_step_once()

    def browse_page(self) -> None:
        from media.kinds import KINDS

        kind = self.random.choice(list(KINDS.values()))
        pk = self.random.choice(self.browse[kind.key])
        url = self.random.choice(
            [
                "/",
                "/saved/",
                "/saved/?sort=title",
                f"/{kind.slug}/",
                f"/{kind.slug}/{pk}/",
                "/search/?q=the",
                f"/{kind.slug}/?q=a",
                f"/anime/{self.person['tracked']}/",
            ]
        )
        self.request(f"GET {url.split('?')[0]}", "GET", url)

    def toggle(self) -> None:
        pk = self.random.choice(self.person["toggled"])
        intent = "unsave" if self.saved[pk] else "save"
        htmx = self.random.random() < 0.5
        response = self.request(
            f"{intent}{' htmx' if htmx else ''}",
            "POST",
            f"/save/anime/{pk}/",
            (200,) if htmx else (303,),
            data={"intent": intent, "next": "/saved/"},
            headers={"HX-Request": "true"} if htmx else {},
        )
        acknowledged = response is not None and response.status_code == (200 if htmx else 303)
        if self.sent:
            self.ledger.record(f"save {pk}", intent == "save", acknowledged)
        if acknowledged:
            self.saved[pk] = intent == "save"

    def track(self) -> None:
        pk = self.person["tracked"]
        value = self.random.randint(1, TOTAL - 1)
        htmx = self.random.random() < 0.5
        response = self.request(
            f"tracking{' htmx' if htmx else ''}",
            "POST",
            f"/track/anime/{pk}/",
            (200,) if htmx else (303,),
            data={"only": "episode_progress", "episode_progress": str(value)},
            headers={"HX-Request": "true"} if htmx else {},
        )
        acknowledged = response is not None and response.status_code == (200 if htmx else 303)
        if self.sent:
            self.ledger.record(f"track {pk}", value, acknowledged)

    def import_step_once(self) -> None:
        """One step of the person's import: upload, look at the preview, import, look at the
        result. A step whose import never moves on (the worker was killed) gives up on it."""
        if self.import_blocked:
            self.browse_page()
            return
        if self.import_step == "upload":
            self.imports += 1
            name = f"load-{self.person['user_id']}-{self.imports}.xml"
            response = self.request(
                "import upload",
                "POST",
                "/import/",
                (303, 409),
                files={"file": (name, mal_xml(self.person["imported"], self.imports))},
            )
            if response is not None and response.status_code == 303:
                self.import_url = response.headers["location"]
                self.import_step = "preview"
                self.import_deadline = time.monotonic() + 20
            elif response is not None and response.status_code == 409:
                self.import_blocked = True  # one left applying by the kill: for an hour
            return
        if time.monotonic() > self.import_deadline:
            self.import_step = "upload"  # stuck: a new upload replaces an unfinished preview
            return
        response = self.request("import page", "GET", self.import_url)
        if response is None:
            return
        page = response.text
        if self.import_step == "preview" and 'class="import-apply"' in page:
            applied = self.request(
                "import apply",
                "POST",
                self.import_url + "apply/",
                (303,),
                data={"conflicts": "take"},
            )
            if applied is not None and applied.status_code == 303:
                self.import_step = "result"
                self.import_deadline = time.monotonic() + 20
                self.ledger.record("import", self.imports, False)  # sent; done when shown
        elif self.import_step == "result" and '<h2 id="result-heading">Imported' in page:
            self.ledger.record("import", self.imports, True)
            self.import_step = "upload"
        elif 'class="import-result"' in page:
            self.import_step = "upload"  # failed or cancelled: nothing written, start again


# The servers, as the Procfile starts them.


def procfile(process: str) -> str:
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        if line.startswith(f"{process}:"):
            return line.removeprefix(f"{process}:").strip()
    raise RuntimeError(f"Procfile has no {process}: line")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Servers:
    """The Procfile's web and worker processes, each in its own process group, with logs."""

    def __init__(self, port: int, logs: Path) -> None:
        self.port, self.logs = port, logs
        self.processes: list[subprocess.Popen] = []
        self.starts = 0

    def env(self) -> dict:
        return os.environ | {
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> None:
        self.starts += 1
        # Served on loopback only, whatever address the Procfile binds.
        web = procfile("web").replace("0.0.0.0", "127.0.0.1")
        for name, command in (("web", web), ("worker", procfile("worker"))):
            log = (self.logs / f"{name}-{self.starts}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    command,
                    shell=True,
                    cwd=BASE_DIR,
                    env=self.env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            )
        self.wait_until_serving()

    def wait_until_serving(self, seconds: float = 30) -> float:
        import httpx

        start = time.monotonic()
        while time.monotonic() - start < seconds:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/accounts/login/", timeout=1)
                return time.monotonic() - start
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"the web server did not answer within {seconds} s: see {self.logs}")

    def kill(self) -> None:
        """SIGKILL to every process of the web server and the worker at once."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait()
        self.processes = []

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    def log_text(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.logs.glob("*")))


# One database, in the child process.


def prepare_database(vendor: str, url: str, scratch: Path) -> str:
    """The database URL to use, made empty."""
    if vendor == "sqlite":
        return f"sqlite:///{scratch / 'loadfault.sqlite3'}"
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')
    return url


def run_clients(clients: list[Client], seconds: float, fault_at: float | None, servers: Servers):
    """Every client steps until time is up; the fault at `fault_at` seconds, if any."""
    stop = threading.Event()
    figures: dict = {}

    def work(client: Client) -> None:
        while not stop.is_set():
            client.step()

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if fault_at is not None:
        time.sleep(fault_at)
        killed = time.monotonic()
        servers.kill()
        servers.start()
        figures["down_seconds"] = time.monotonic() - killed
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join()
    return figures


def flood(base: str, attempts: int, seconds: float, baseline: float) -> dict:
    """`attempts` wrong passwords for one account over `seconds` (four at a time at most, and
    none 20 s past it), and another person's dashboard timed before and during."""
    import httpx

    timer = Client(base, {"username": "timer"}, {}, Stats(), 0)
    timer.sign_in()

    def timed(window: float) -> list[float]:
        samples, end = [], time.monotonic() + window
        while time.monotonic() < end:
            start = time.perf_counter()
            try:
                timer.http.get("/saved/")
                samples.append((time.perf_counter() - start) * 1000)
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return samples

    before = timed(baseline)
    answers: Counter = Counter()
    lock, sent = threading.Lock(), iter(range(attempts))
    start = time.monotonic()

    give_up = start + seconds + 20  # a slow server gets fewer attempts, not a longer run

    def attacker() -> None:
        client = httpx.Client(base_url=base, timeout=30)
        client.get("/accounts/login/")
        for number in sent:
            time.sleep(max(0.0, start + number * seconds / attempts - time.monotonic()))
            if time.monotonic() > give_up:
                break
            try:
                response = client.post(
                    "/accounts/login/",
                    data={"username": "flooded", "password": f"wrong-{number}"},
                    headers={"X-CSRFToken": client.cookies.get("csrftoken", "")},
                )
                status = response.status_code
            except httpx.HTTPError:
                status = "no answer"
            with lock:
                answers[status] += 1

    attackers = [threading.Thread(target=attacker) for _ in range(4)]
    for thread in attackers:
        thread.start()
    during: list[float] = []
    timing = threading.Thread(target=lambda: during.extend(timed(seconds)))
    timing.start()
    for thread in attackers:
        thread.join()
    took = time.monotonic() - start
    timing.join()
    right = Client(base, {"username": "flooded"}, {}, Stats(), 0).sign_in()
    return {
        "attempts": sum(answers.values()),
        "seconds": took,
        "answers": {str(k): v for k, v in sorted(answers.items(), key=str)},
        "before_p50": statistics.median(before) if before else float("nan"),
        "before_p95": percentile(before, 0.95),
        "during_p50": statistics.median(during) if during else float("nan"),
        "during_p95": percentile(during, 0.95),
        "right_password_after": "accepted" if right in (302, 303) else f"refused ({right})",
    }


def run_one(options) -> dict:
    """Everything for the database DATABASE_URL names; the figures."""
    import django
    from django.core.management import call_command
    from django.db import connection

    def say(text: str) -> None:
        print(f"  {text}", file=sys.stderr, flush=True)

    django.setup()
    say("migrating and creating people and titles…")
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    world = seed(options.clients)
    connection.close()
    logs = Path(options.logs)
    servers = Servers(free_port(), logs)
    base = f"http://127.0.0.1:{servers.port}"
    stats = Stats()
    figures: dict = {"vendor": connection.vendor}
    servers.start()
    try:
        clients = [
            Client(base, person, world["browse"], stats, number)
            for number, person in enumerate(world["people"])
        ]
        for client in clients:
            client.sign_in()
        say(
            f"{options.seconds:.0f} s of load" + ("" if options.no_fault else ", SIGKILL half-way…")
        )
        stats.statuses.clear()  # the load counts from here
        stats.times.clear()
        fault_at = None if options.no_fault else options.seconds / 2
        figures |= run_clients(clients, options.seconds, fault_at, servers)
        if options.flood_attempts:
            say(
                f"flood: {options.flood_attempts} wrong passwords in {options.flood_seconds:.0f} s…"
            )
            figures["flood"] = flood(
                base, options.flood_attempts, options.flood_seconds, options.flood_baseline
            )
    finally:
        servers.stop()
    say("checking what the database holds…")
    lost, unconfirmed, what = 0, 0, []
    confirmed = Counter()
    for client in clients:
        initial, actual = actual_state(client.person)
        n_lost, n_unconfirmed, found = lost_writes(client.ledger.writes, initial, actual)
        lost, unconfirmed, what = lost + n_lost, unconfirmed + n_unconfirmed, what + found
        for key, _, acknowledged in client.ledger.writes:
            confirmed[key.split()[0]] += acknowledged
    half = half_written([client.person for client in clients])
    problems = log_problems(servers.log_text())
    statuses = stats.statuses
    figures |= {
        "seconds": options.seconds,
        "clients": options.clients,
        "requests": sum(v for k, v in statuses.items() if k != "not connected"),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "5xx": sum(v for k, v in statuses.items() if isinstance(k, int) and k >= 500),
        "unexpected": dict(stats.unexpected),
        "p50_ms": percentile(stats.times, 0.5) * 1000,
        "p95_ms": percentile(stats.times, 0.95) * 1000,
        "confirmed": dict(confirmed),
        "lost": lost,
        "lost_detail": what[:10],
        "unconfirmed": unconfirmed,
        "half_written": len(half),
        "half_written_detail": half[:10],
        "open_imports": open_imports(),
        "locked": problems["locked"],
        "tracebacks": problems["tracebacks"],
        "logs": str(logs),
    }
    return figures


# The parent: one child per database, then the table.


def child_env(url: str) -> dict:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: providers are never reached
    return os.environ | {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "0",
        "SECRET_KEY": "loadfault-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TMDB_API_KEY": "",
        "TMDB_API_URL": f"{dead}/3",
        "JIKAN_API_URL": f"{dead}/v4",
        "LOG_LEVEL": "WARNING",
    }


def table(runs: dict) -> str:
    names = list(runs)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, value) -> None:
        rows.append((label, [value(runs[name]) for name in names]))

    def statuses(figures: dict) -> str:
        return ", ".join(f"{k}: {v}" for k, v in figures["statuses"].items())

    row("load", lambda f: f"{f['seconds']:.0f} s, {f['clients']} clients")
    row("requests sent", lambda f: f"{f['requests']:,}")
    row("answers by status", statuses)
    row("5xx", lambda f: str(f["5xx"]))
    row(f'"{LOCKED}" in logs', lambda f: str(f["locked"]))
    row("tracebacks in logs", lambda f: str(f["tracebacks"]))
    row("latency p50 / p95", lambda f: f"{f['p50_ms']:.0f} / {f['p95_ms']:.0f} ms")
    row("SIGKILL: down for", lambda f: f"{f['down_seconds']:.1f} s" if "down_seconds" in f else "-")
    row(
        "writes acknowledged",
        lambda f: ", ".join(f"{k}: {v}" for k, v in sorted(f["confirmed"].items())),
    )
    row("lost", lambda f: str(f["lost"]))
    row("half-written", lambda f: str(f["half_written"]))
    row("unanswered at the kill (either is fine)", lambda f: str(f["unconfirmed"]))
    row(
        "imports still open at the end",
        lambda f: ", ".join(f"{k}: {v}" for k, v in f["open_imports"].items()) or "0",
    )
    if all("flood" in runs[name] for name in names):
        row("flood: wrong passwords", lambda f: f"{f['flood']['attempts']} in "
            f"{f['flood']['seconds']:.0f} s")  # fmt: skip
        row("flood: answers", lambda f: ", ".join(f"{k}: {v}"
            for k, v in f["flood"]["answers"].items()))  # fmt: skip
        row(
            "flood: a page's p50 / p95 before",
            lambda f: f"{f['flood']['before_p50']:.0f} / {f['flood']['before_p95']:.0f} ms",
        )
        row(
            "flood: a page's p50 / p95 during",
            lambda f: f"{f['flood']['during_p50']:.0f} / {f['flood']['during_p95']:.0f} ms",
        )
        row("flood: right password right after", lambda f: f["flood"]["right_password_after"])
    width = max(len(label) for label, _ in rows)
    lines = [f"| {'':<{width}} | " + " | ".join(NAMES.get(n, n) for n in names) + " |"]
    lines.append(f"| {'-' * width} | " + " | ".join("---" for _ in names) + " |")
    lines += [f"| {label:<{width}} | " + " | ".join(values) + " |" for label, values in rows]
    return "\n".join(lines)


def failed(figures: dict) -> bool:
    return any(figures[name] for name in ("5xx", "locked", "tracebacks", "lost", "half_written"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], action="append",
                        help="repeatable; default: both")  # fmt: skip
    parser.add_argument("--postgresql-url", default=DEFAULT_PG_URL,
                        help="a scratch database: it is dropped and made again")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=60, help="length of the mixed load")
    parser.add_argument("--clients", type=int, default=6, help="people loading at once")
    parser.add_argument("--no-fault", action="store_true", help="no SIGKILL mid-load")
    parser.add_argument("--flood-attempts", type=int, default=300, help="0: no flood")
    parser.add_argument("--flood-seconds", type=float, default=40)
    parser.add_argument("--flood-baseline", type=float, default=8, help="seconds timed before")
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # (internal) figures to this file
    parser.add_argument("--logs", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path[0] = str(BASE_DIR)  # run as a script: import the project, not bench's modules
    if options.child:
        Path(options.child).write_text(json.dumps(run_one(options)))
        return 0
    runs = {}
    for vendor in options.database or ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory(prefix="shelf-loadfault-") as scratch:
            url = prepare_database(vendor, options.postgresql_url, Path(scratch))
            out, logs = Path(scratch) / "figures.json", Path(scratch) / "logs"
            logs.mkdir()
            arguments = list(argv if argv is not None else sys.argv[1:])
            print(f"== {NAMES[vendor]}", file=sys.stderr)
            done = subprocess.run(
                [sys.executable, __file__, *arguments, "--child", str(out), "--logs", str(logs)],
                env=child_env(url),
                cwd=BASE_DIR,
            )
            if done.returncode != 0:
                print(f"The {NAMES[vendor]} run failed (above).", file=sys.stderr)
                return 1
            runs[vendor] = json.loads(out.read_text())
            for name in ("lost_detail", "half_written_detail"):
                for line in runs[vendor][name]:
                    print(f"{NAMES[vendor]}: {name.split('_')[0]}: {line}", file=sys.stderr)
            if failed(runs[vendor]):
                kept = Path(tempfile.mkdtemp(prefix="shelf-loadfault-logs-"))
                for path in logs.glob("*"):
                    (kept / path.name).write_bytes(path.read_bytes())
                print(f"{NAMES[vendor]}: the logs are kept in {kept}", file=sys.stderr)
    print(table(runs))
    if options.json:
        Path(options.json).write_text(json.dumps(runs, indent=2) + "\n")
    bad = [NAMES[v] for v, figures in runs.items() if failed(figures)]
    if bad:
        print(f"Errors, lost or half-written writes on {', '.join(bad)}.", file=sys.stderr)
        return 1
    print("\nNo 5xx, nothing locked, nothing lost, nothing half-written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
