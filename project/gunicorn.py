"""gunicorn's settings for Shelf, one file for the Procfile's `web:` and for `make run`:
`gunicorn -c project/gunicorn.py project.wsgi`.

Slow clients. gunicorn's default (sync) worker gives a whole process to each connection, so a
few clients sending a request a byte at a time take every worker. Here each worker process
serves connections from a pool of threads (gunicorn's `gthread` worker): a new connection that
sends nothing holds a thread for 5 s at most and then waits in the worker's poller, as a
kept-alive one does between requests. Once a
thread has a connection, it blocks on the client's socket for as long as the client takes to
send its request, so `ThreadWorker` below puts deadlines on those reads: the request line and
headers must be in within HEAD_TIMEOUT seconds, and a body within BODY_GRACE seconds plus one
for each BODY_MIN_RATE bytes it declares. A client that misses one is disconnected and its
thread is free again; a body cut short is an error for the view, never a shorter form.
Not ASGI (exports stream from sync iterators, which ASGI would buffer whole) and not gevent
(SQLite's locks would block every green thread at once). A reverse proxy in front (README,
"Self-hosting") reads whole requests itself, and then these deadlines are a second line.
"""

from __future__ import annotations

import errno
import logging
import os
import time

from gunicorn.http.errors import NoMoreData
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import gthread

# The deadlines on what a client sends, in seconds; a body also gets a second per
# BODY_MIN_RATE bytes (a 20 MB import may take 21 minutes).
HEAD_TIMEOUT = 10.0
BODY_GRACE = 10.0
BODY_MIN_RATE = 16 * 1024

log = logging.getLogger("gunicorn.error")


class DeadlineUnreader(SocketUnreader):
    """gunicorn's socket reader, each read bounded by the current request's deadline."""

    deadline: float | None = None
    phase = "head"

    def expect_head(self) -> None:
        self.phase, self.deadline = "head", time.monotonic() + HEAD_TIMEOUT

    def expect_body(self, length: int | None) -> None:
        budget = BODY_GRACE + (length or 0) / BODY_MIN_RATE
        self.phase, self.deadline = "body", time.monotonic() + budget

    def chunk(self, size_hint=None):
        if self.deadline is None:
            return super().chunk(size_hint)
        left = self.deadline - time.monotonic()
        prior = self.sock.gettimeout()
        try:
            if left <= 0:
                raise TimeoutError(errno.ETIMEDOUT, "deadline passed")
            self.sock.settimeout(left if prior is None else min(prior, left))
            return super().chunk(size_hint)
        except TimeoutError:
            raise self._too_slow() from None
        finally:
            self.sock.settimeout(prior)

    def _too_slow(self) -> Exception:
        if self.phase == "head":
            # gunicorn closes the connection as it would for a client that went away.
            log.info("Closed a connection whose request head took over %.0f s", HEAD_TIMEOUT)
            return NoMoreData(b"")
        # An error, so that the application never takes what arrived for the whole body.
        log.info("Closed a connection whose request body arrived too slowly")
        return TimeoutError(errno.ETIMEDOUT, "The request body arrived too slowly.")


class DeadlineConn(gthread.TConn):
    """A connection whose reads follow the deadlines of the request being read."""

    def init(self):
        super().init()  # makes the parser on the first request; does nothing after
        reader = getattr(self.parser, "unreader", None)
        if type(reader) is SocketUnreader:  # HTTP/1.x; an HTTP/2 connection has its own
            guarded = DeadlineUnreader(reader.sock, reader.mxchunk)
            guarded.unread(reader.buf.getvalue())
            self.parser.unreader = reader = guarded
        if isinstance(reader, DeadlineUnreader):
            reader.expect_head()  # gthread calls init() as each request on it begins


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker, with deadlines on reading requests (see the module's doc)."""

    def accept(self, listener):
        # gthread's own accept, making a DeadlineConn instead of a TConn.
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            conn = DeadlineConn(self.cfg, client_sock, client_addr, listener.getsockname())
            self.enqueue_req(conn)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle_request(self, req, conn):
        reader = conn.parser.unreader
        if isinstance(reader, DeadlineUnreader):
            # A body of known length has what is left of it there; a chunked one, no length.
            reader.expect_body(getattr(getattr(req.body, "reader", None), "length", None))
        return super().handle_request(req, conn)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# HOST and PORT: where to listen. Platforms that read the Procfile set PORT and need every
# interface; `make run` passes HOST=127.0.0.1 unless told otherwise.
_host = os.environ.get("HOST", "").strip() or "0.0.0.0"
bind = [f"{_host}:{_env_int('PORT', 8000)}"]
worker_class = ThreadWorker
workers = _env_int("WEB_CONCURRENCY", 2)
# Requests served at once per process: each slow client holds one thread, not a process.
# On PostgreSQL each thread keeps its own connection (CONN_MAX_AGE).
threads = _env_int("WEB_THREADS", 8)
# A worker whose main loop (not a request: threads) is stuck this long is replaced.
timeout = 30
# On SIGTERM, requests in hand get this long to finish: under the 30 s platforms wait.
graceful_timeout = 25
# An idle kept-alive connection waits in the poller, not in a thread, and goes after this.
keepalive = 5
# What one request head may hold: the longest URL Shelf makes is far shorter, and browsers
# send about twenty headers.
limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190
accesslog = "-"
# No control socket: its default path is one per user, which servers run side by side (a test's,
# `make run`'s) would share; Shelf is stopped with signals.
control_socket_disable = True
