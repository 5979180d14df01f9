"""The real server: the Procfile's `web:` command (gunicorn with project/gunicorn.py), started
on a free port against the test database, with DEBUG off.

Slow clients: a handful of connections trickling a request head or body a byte a second must
not hold up anyone else, and each is cut off once its deadline passes (project/gunicorn.py).
Timings are generous, since the machine running the tests may be busy.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from project.gunicorn import (
    BODY_GRACE,
    HEAD_TIMEOUT,
    DeadlineUnreader,
)

ROOT = Path(__file__).resolve().parent.parent
CSRF_COOKIE = "csrftoken=" + "a" * 32  # a well-formed secret, so the view reads the body
# The server reads the test database, so the tests that use it ask for one; pytest-django
# empties it after each (there is nothing to empty: they write nothing).
uses_server = pytest.mark.django_db(transaction=True)


def procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web: line")


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    port: int
    log: Path

    def get(self, path: str, method: str = "GET") -> tuple[int, dict, bytes, float]:
        started = time.monotonic()
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            client.request(method, path)
            response = client.getresponse()
            body = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers, body, time.monotonic() - started
        finally:
            client.close()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn as the Procfile starts it, one worker process (its threads do the work)."""
    with django_db_blocker.unblock():
        url = database_url()
    assert "test" in url, url  # never the development database
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="tests.server_settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY="test-server-" + "k" * 50,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        TMDB_API_URL="https://tmdb.test/3",
        JIKAN_API_URL="https://jikan.test/v4",
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            ["sh", "-c", f"exec {procfile_web()}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if running.get("/accounts/login/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class SlowClient(threading.Thread):
    """Sends `head` then trickles `trickle` a byte a second, until the server answers or
    closes; `ended` is when that happened (seconds after the first byte), `answer` what came."""

    def __init__(self, port: int, head: bytes, trickle: bytes = b"", limit: float = 25):
        super().__init__(daemon=True)
        self.port, self.head, self.trickle, self.limit = port, head, trickle, limit
        self.ended: float | None = None
        self.answer = b""

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.limit) as sock:
            started = time.monotonic()
            if self.head:
                sock.sendall(self.head)
            sent = 0
            while time.monotonic() - started < self.limit:
                readable, _, _ = select.select([sock], [], [], 1.0)
                try:
                    if readable:
                        self.answer = sock.recv(65536)
                        break
                    if sent < len(self.trickle):
                        sock.sendall(self.trickle[sent : sent + 1])
                        sent += 1
                except OSError:
                    break  # reset: the server closed it
            else:
                return  # never cut off
            self.ended = time.monotonic() - started


@uses_server
def test_slow_clients_hold_up_no_one_and_are_cut_off(server):
    port = server.port
    host = b"Host: 127.0.0.1\r\n"
    clients = [
        # Trickling a header line that never ends, like a slowloris.
        *[
            SlowClient(port, b"GET / HTTP/1.1\r\n" + host + b"X-Slow: ", b"a" * 60)
            for _ in range(3)
        ],
        # Trickling a form's body: the view waits for it to read the CSRF token.
        *[
            SlowClient(
                port,
                b"POST /accounts/login/ HTTP/1.1\r\n"
                + host
                + b"Cookie: "
                + CSRF_COOKIE.encode()
                + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100\r\n\r\n",
                b"x" * 100,
            )
            for _ in range(2)
        ],
        # Stalled: half a request head, then nothing.
        SlowClient(port, b"GET / HTTP/1.1\r\n" + host),
    ]
    for client in clients:
        client.start()
    timings = []
    watching = time.monotonic()
    while time.monotonic() - watching < HEAD_TIMEOUT + 4:
        status, _, body, took = server.get("/")
        assert status == 200 and b"<title>" in body, server.log.read_text()[-3000:]
        timings.append(took)
        time.sleep(0.4)
    for client in clients:
        client.join(timeout=20)

    assert len(timings) >= 15
    assert max(timings) < 2.0, timings  # each page answered promptly throughout
    head_tricklers, body_tricklers, stalled = clients[:3], clients[3:5], clients[5]
    for client in [*head_tricklers, stalled]:
        # Cut off without an answer once its head is HEAD_TIMEOUT late.
        assert client.ended is not None and client.answer == b""
        assert HEAD_TIMEOUT - 1 <= client.ended <= HEAD_TIMEOUT + 4, client.ended
    for client in body_tricklers:
        # The body's deadline (BODY_GRACE for 100 bytes) passes: the view gets an unreadable
        # body, never a short one, and the form is refused.
        assert client.ended is not None, "a trickled body was never cut off"
        assert BODY_GRACE - 1 <= client.ended <= BODY_GRACE + 4, client.ended
        assert client.answer.startswith(b"HTTP/1.1 403 "), client.answer[:80]
    log = server.log.read_text()
    assert log.count("request head took over") >= 4
    assert log.count("request body arrived too slowly") >= 2


@uses_server
def test_shelfs_own_pages_with_debug_off(server):
    status, headers, body, _ = server.get("/no-such-page/")
    assert status == 404
    assert b"<h1>Not found</h1>" in body
    assert b"Traceback" not in body and b"DEBUG" not in body
    stylesheet = re.search(rb'href="(/static/css/[^"]+\.css)"', body)[1].decode()
    status, headers, css, _ = server.get(stylesheet)
    assert status == 200 and headers["content-type"].startswith("text/css") and css


@uses_server
def test_head_over_the_wire_has_headers_and_no_body(server):
    status, headers, body, _ = server.get("/", method="HEAD")
    get_status, get_headers, get_body, _ = server.get("/")
    assert status == get_status == 200
    assert body == b""
    assert int(headers["content-length"]) == len(get_body)


@uses_server
def test_a_huge_upload_is_refused_before_it_is_sent(server):
    client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    client.putrequest("POST", "/import/")
    client.putheader("Content-Type", "multipart/form-data; boundary=x")
    client.putheader("Content-Length", str(1024**3))
    client.endheaders()
    client.send(b"--x\r\n" + b"0" * 65536)  # the start of 1 GiB that will never come
    response = client.getresponse()
    assert response.status == 413
    assert b"Too large" in response.read()
    client.close()


def test_procfile_and_make_run_share_one_gunicorn_config():
    assert procfile_web() == "gunicorn -c project/gunicorn.py project.wsgi"
    make_run = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout
    assert "gunicorn -c project/gunicorn.py project.wsgi" in make_run
    assert "runserver" not in make_run


def reader_over(data: bytes, *, hold_open: bool) -> tuple[DeadlineUnreader, socket.socket]:
    server_side, client_side = socket.socketpair()
    client_side.sendall(data)
    if not hold_open:
        client_side.close()
    return DeadlineUnreader(server_side), client_side


def test_a_read_past_the_head_deadline_ends_the_connection(monkeypatch):
    from gunicorn.http.errors import NoMoreData

    monkeypatch.setattr("project.gunicorn.HEAD_TIMEOUT", 0.3)
    reader, peer = reader_over(b"GET / HTTP/1.1\r\n", hold_open=True)
    reader.expect_head()
    assert reader.chunk() == b"GET / HTTP/1.1\r\n"
    started = time.monotonic()
    with pytest.raises(NoMoreData):
        reader.chunk()  # nothing more comes: the read gives up at the deadline
    assert 0.2 < time.monotonic() - started < 2
    assert reader.sock.gettimeout() is None  # the socket is left as gthread set it
    peer.close()


def test_a_body_past_its_deadline_is_an_error_not_a_short_body(monkeypatch):
    monkeypatch.setattr("project.gunicorn.BODY_GRACE", 0.3)
    reader, peer = reader_over(b"user", hold_open=True)
    reader.expect_body(length=100)
    assert reader.chunk() == b"user"
    with pytest.raises(TimeoutError):
        reader.chunk()
    peer.close()


def test_a_body_gets_time_in_proportion_to_its_length(monkeypatch):
    monkeypatch.setattr("project.gunicorn.BODY_GRACE", 1.0)
    monkeypatch.setattr("project.gunicorn.BODY_MIN_RATE", 1000)
    reader, peer = reader_over(b"", hold_open=True)
    now = time.monotonic()
    reader.expect_body(length=5000)
    assert 5.5 < reader.deadline - now < 6.5
    peer.close()
