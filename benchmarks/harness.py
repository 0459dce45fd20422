"""Calling WSGI apps as a server would, and timing interleaved loops of requests.

Every cell of the table is a :class:`Cell`: something that runs ``n`` requests (or
Redis round trips) and returns the seconds they took. :func:`run_rounds` runs every
cell once per round, in a fresh random order each round, and keeps the µs per request
of each loop; the table reports the median over rounds.
"""

from __future__ import annotations

import gc
import io
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any

from .common import Built, session_cookie

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

Headers = list[tuple[str, str]]


def environ_template(scenario: str, cookie: str | None) -> WSGIEnvironment:
    """A GET to ``/scenario`` on localhost, with ``cookie`` as the Cookie header if given.

    ``wsgi.input`` is shared by the copies: a GET never reads it.
    """
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": f"/{scenario}", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost", "HTTP_USER_AGENT": "benchmarks",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return environ


def _write(data: bytes) -> None:
    raise RuntimeError("the benchmark apps never use write()")


def fetch(app: WSGIApplication, environ: WSGIEnvironment) -> tuple[str, Headers, bytes]:
    """One request, untimed: its status, headers and body."""
    response: list[tuple[str, Headers]] = []

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        response.append((status, headers))
        return _write

    result = app(dict(environ), start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return response[-1][0], response[-1][1], body


class Requester:
    """Sends one kind of request to one app; each request gets a copy of the template environ.

    The response's status and headers are kept until :meth:`drain` checks them (every
    status must be 200) and hands the session cookies set to ``forget`` (for cleanup).
    Between loops it keeps the session cookie the last response set, as a browser
    would (within a loop every request sends the same cookie, as concurrent requests of
    one browser do): a signed cookie renewed by a read is not replayed stale forever.
    """

    def __init__(self, app: WSGIApplication, template: WSGIEnvironment, cookie_name: str | None,
                 forget: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.template = template
        self.cookie_name = cookie_name
        self.forget = forget
        self.responses: list[tuple[str, Headers]] = []
        self.last_headers: Headers = []

    def loop(self, n: int) -> float:
        """Run ``n`` requests; return the seconds they took."""
        app, template, responses = self.app, self.template, self.responses
        append = responses.append

        def start_response(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
            append((status, headers))
            return _write

        started = time.perf_counter()
        for _ in range(n):
            result = app(template.copy(), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        elapsed = time.perf_counter() - started
        self.drain()
        return elapsed

    def one(self) -> Headers:
        """Run one request; return its headers."""
        self.loop(1)
        return self.last_headers

    def refresh(self) -> None:
        """One untimed request, so that a timed loop starts with the cookie a browser holds now.

        A session renewed once a minute (a signed cookie's expiry travels in the cookie)
        would otherwise be renewed by every request of a loop that replays a stale cookie.
        """
        self.loop(1)

    def drain(self) -> None:
        bad = [status for status, _ in self.responses if not status.startswith("200")]
        if bad:
            raise RuntimeError(f"{self.template['PATH_INFO']} answered {bad[0]} ({len(bad)} times)")
        if self.responses:
            self.last_headers = self.responses[-1][1]
            self._keep_cookie(self.last_headers)
        if self.forget is not None and self.cookie_name is not None:
            for _, headers in self.responses:
                value = session_cookie(headers, self.cookie_name)
                if value is not None:
                    self.forget(value)
        self.responses.clear()

    def _keep_cookie(self, headers: Headers) -> None:
        if self.cookie_name is None or "HTTP_COOKIE" not in self.template:
            return  # a first visit stays a first visit
        value = session_cookie(headers, self.cookie_name)
        if value is not None:
            self.template["HTTP_COOKIE"] = f"{self.cookie_name}={value}"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Collect garbage first, then keep the collector off while timing, as ``timeit`` does.

    Otherwise a loop pays for collections of a heap that holds every system's objects (Django,
    Flask, SQLAlchemy), at moments that depend on what the other cells allocated before it.
    """
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Cell:
    """One timed thing: a system on an engine in a scenario, a baseline, or a Redis floor."""

    system: str
    engine: str
    scenario: str
    loop: Callable[[int], float]
    prepare: Callable[[], None] | None = None
    #: Requests per timed loop, set by :func:`calibrate`.
    n: int = 0
    #: µs per request of each round's loop.
    samples: list[float] = field(default_factory=list)
    #: For system cells: what produced it, for the request counts.
    built: Built | None = None
    requester: Requester | None = None

    @property
    def median(self) -> float:
        return median(self.samples)

    def timed(self, n: int) -> float:
        if self.prepare is not None:
            self.prepare()
        with collector_paused():
            return self.loop(n)


def calibrate(cell: Cell, loop_seconds: float) -> None:
    """Warm ``cell`` up and choose how many requests make one loop of about ``loop_seconds``."""
    n, elapsed = 1, 0.0
    cell.timed(3)  # first requests open connections, compile routes, create tables
    while True:
        elapsed = cell.timed(n)
        if elapsed >= min(0.02, loop_seconds / 4) or n >= 1_000_000:
            break
        n *= 4
    cell.n = max(3, round(loop_seconds / (elapsed / n)))


def run_rounds(cells: list[Cell], rounds: int, seed: int, progress: Callable[[str], None]) -> None:
    """Run every cell's loop once per round, each round in its own random order."""
    order = list(cells)
    for number in range(rounds):
        random.Random(seed + number).shuffle(order)
        started = time.perf_counter()
        for cell in order:
            cell.samples.append(cell.timed(cell.n) / cell.n * 1e6)
        progress(f"round {number + 1}/{rounds}: {time.perf_counter() - started:.1f} s")
