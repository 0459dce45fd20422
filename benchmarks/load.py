"""Throughput and lost updates under gunicorn, driven by wrk with one session cookie.

    python -m benchmarks.load                  # every app, sync and gthread workers, 10 s each
    python -m benchmarks.load --duration 3 --apps bare,wsgisession-redis

For each app and worker class, gunicorn (2 workers; gthread with ``--threads`` each)
serves ``benchmarks.load_app`` on a free loopback port. A first request makes a session
(``count`` = 1); wrk then sends ``GET /write`` with that one cookie from 16 connections
for ``--duration`` seconds and counts the 2xx responses in its Lua ``done()`` hook.
The counter read back afterwards, against ``1 + 2xx``, gives the updates lost to
concurrent read-modify-write of one session. Needs ``wrk`` (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .common import Env, session_cookie
from .machine import Busy, header
from .micro import check_redis, cleanup
from .report import table
from .systems import all_systems
from .systems.beaker import delete_redis_sessions

#: name -> (system, engine); "bare" is the WSGI app with no session layer.
APPS = {
    "bare": ("bare", ""),
    "wsgisession-redis": ("wsgisession", "redis"),
    "wsgisession-redis-locked": ("wsgisession", "redis-locked"),
    "beaker-redis": ("beaker", "redis"),
    "django-redis": ("django", "redis"),
    "wsgisession-sql": ("wsgisession", "sql"),
}
LABELS = {
    "bare": "bare WSGI app (no sessions)",
    "wsgisession-redis": "wsgisession, redis",
    "wsgisession-redis-locked": "wsgisession, redis, SESSION_LOCKING",
    "beaker-redis": "Beaker, ext:redis",
    "django-redis": "Django, RedisCache",
    "wsgisession-sql": "wsgisession, db (SQLite)",
}
WORKERS = ("sync", "gthread")
ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_counter.lua"
#: Seconds to wait for gunicorn to answer, and for it to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class Outcome:
    app: str
    worker: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    ok: int
    errors: int
    final: int | None
    lost: int | None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per app and worker class")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
    parser.add_argument("--apps", default=",".join(APPS), help=f"comma-separated, of {','.join(APPS)}")
    parser.add_argument("--workers", default=",".join(WORKERS), help="comma-separated, of sync,gthread")
    args = parser.parse_args(argv)
    args.apps = [app for app in args.apps.split(",") if app]
    args.workers = [worker for worker in args.workers.split(",") if worker]
    unknown = sorted(set(args.apps) - set(APPS)) + sorted(set(args.workers) - set(WORKERS))
    if unknown or args.duration < 1:
        parser.error(f"unknown choices {unknown}" if unknown else "--duration must be at least 1")
    return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(port: int, path: str, cookie: str | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


class Gunicorn:
    """A gunicorn master serving ``benchmarks.load_app`` on a free loopback port; stop() ends it."""

    def __init__(self, worker: str, threads: int, environ: dict[str, str]) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
                   "--worker-class", worker, "--log-level", "warning", "benchmarks.load_app:app"]
        if worker == "gthread":
            command[-1:-1] = ["--threads", str(threads)]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **environ})
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode} before serving")
            try:
                if request(self.port, "/untouched")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_wrk(port: int, cookie: str | None, args: argparse.Namespace) -> dict[str, int]:
    command = ["wrk", "--threads", "2", "--connections", str(args.connections), "--duration", f"{args.duration}s",
               "--timeout", "5s", "--script", str(WRK_SCRIPT), f"http://127.0.0.1:{port}/write"]
    environ = {**os.environ, "BENCH_PATH": "/write", "BENCH_COOKIE": cookie or ""}
    finished = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=args.duration + 60,
                              check=False)
    for line in finished.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH "):])  # type: ignore[no-any-return]
    raise RuntimeError(f"wrk printed no summary (exit {finished.returncode}): {finished.stderr or finished.stdout}")


def measure(name: str, worker: str, env: Env, args: argparse.Namespace, forget: set[str]) -> Outcome:
    system, engine = APPS[name]
    environ = {"BENCH_SYSTEM": system, "BENCH_ENGINE": engine, "BENCH_TMP": str(env.tmp),
               "BENCH_REDIS_URL": env.redis_url, "BENCH_RUN_ID": env.run_id, "BENCH_SECRET": env.secret}
    server = Gunicorn(worker, args.threads, environ)
    try:
        cookie = _first_visit(server.port, system, forget)
        stats = run_wrk(server.port, cookie, args)
        time.sleep(0.5)  # let requests wrk gave up on finish before the counter is read
        final = int(request(server.port, "/read", cookie)[2]) if cookie else None
    finally:
        server.stop()
    ok = stats["ok2xx"]
    errors = sum(stats[key] for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return Outcome(name, worker, stats["requests"] / (stats["duration_us"] / 1e6), stats["p50_us"] / 1000,
                   stats["p99_us"] / 1000, ok, errors, final, None if final is None else 1 + ok - final)


def _first_visit(port: int, system: str, forget: set[str]) -> str | None:
    """The cookie header of a new session (``count`` = 1), or None for the bare app."""
    if system == "bare":
        return None
    cookie_name = next(candidate for candidate in all_systems() if candidate.name == system).cookie_name
    status, headers, body = request(port, "/new")
    value = session_cookie(headers, cookie_name)
    if status != 200 or body != b"1" or value is None:
        raise RuntimeError(f"/new answered {status} {body!r} without a {cookie_name} cookie")
    if system == "beaker":
        forget.add(value)
    return f"{cookie_name}={value}"


def _wrk_version() -> str:
    # wrk prints its version on the first line of its usage text (and exits non-zero).
    usage = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (usage.stdout or usage.stderr).splitlines()
    return first[0].split(" Copyright")[0].removeprefix("wrk ").strip() if first else "?"


def render(outcomes: list[Outcome], args: argparse.Namespace) -> str:
    rows = []
    for outcome in outcomes:
        worker = "sync, 2 workers" if outcome.worker == "sync" else f"gthread, 2 workers x {args.threads} threads"
        lost = "n/a" if outcome.lost is None else f"{outcome.lost} of {outcome.ok}"
        rows.append([LABELS[outcome.app], worker, f"{outcome.requests_per_second:,.0f}", f"{outcome.p50_ms:.2f}",
                     f"{outcome.p99_ms:.2f}", f"{outcome.ok:,}", str(outcome.errors),
                     "n/a" if outcome.final is None else f"{outcome.final:,}", lost])
    head = ["app", "gunicorn", "req/s", "p50 ms", "p99 ms", "2xx", "errors", "counter read back", "updates lost"]
    legend = (f"`GET /write` (read the counter, add one) with one session cookie, {args.connections} connections, "
              f"2 wrk threads, {args.duration} s per row. 2xx: responses wrk counted in its done() hook; errors: "
              "connect/read/write errors, timeouts and non-2xx/3xx statuses. Updates lost = 1 (the first visit) + 2xx "
              "- the counter read back afterwards: increments overwritten by a concurrent request of the same session "
              "(a request wrk gave up on at the end can still land, which can make it slightly negative).")
    return "\n\n".join([table(head, rows), legend])


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    busy = Busy()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    outcomes: list[Outcome] = []
    forget: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="wsgisession-load-") as tmp:
        env = Env.from_environ(Path(tmp))
        redis_used = any(APPS[name][1].startswith("redis") for name in args.apps)
        if redis_used:
            check_redis(env.redis_url)
        try:
            for name in args.apps:
                for worker in args.workers:
                    print(f"{name} on {worker} ...", file=sys.stderr, flush=True)
                    outcomes.append(measure(name, worker, env, args, forget))
        finally:
            if forget:
                delete_redis_sessions(env.redis_url, forget)
            cleanup([], env, redis_used)
    print(header("benchmarks.load", raw, f"wrk {_wrk_version()}; {busy.summary()}"))
    print()
    print(render(outcomes, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
