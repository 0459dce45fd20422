"""Load driver: many clients, each with its own cookie jar, against gunicorn on every engine.

Run on demand (prints a Markdown table, exits 1 if any row lost, doubled or mixed up an update
or answered 5xx)::

    python -m tests.load.load_run --full     # 200 clients, 30 s per row, 5 engines x 3 worker classes
    python -m tests.load.load_run            # the short matrix of tests/load/test_load_short.py
    python -m tests.load.load_run --engine redis --workers gevent --clients 50 --seconds 10

Each client is a thread with a ``requests.Session`` (its own cookie jar: one user) calling
``/hit`` of :mod:`tests.load.load_app` again and again until the time is up; its requests
are sequential, so no two requests of one session ever overlap and exact counts are expected
without ``SESSION_LOCKING``. Every answer must carry the client's own owner mark and a count
one above the previous one; at the end a ``/peek`` must read a count equal to the client's
successful requests. Threads rather than wrk: wrk's Lua ``response()`` is not told which
connection answered, so it cannot keep one cookie per connection nor check a count per user.
The clients share the machine with the server: the req/s are a floor, not a benchmark (see
``benchmarks/`` for those).

The engines are those of ``tests/conftest.py``, on the shared Redis and PostgreSQL of
``tests/servers.py`` (a unique key prefix or table per row, removed afterwards) and SQLite
files and folders in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import servers
from tests.live.conftest import REPO_ROOT, free_port, gunicorn_command, stop, wait_until_answering
from tests.load.clients import TABLE_HEADER, LoadResult, drive, table_row

APP = "tests.load.load_app:app"
SECRET = "load-test-secret-key-0123456789abcdef"
#: Server-side engine configurations (the ids of tests/conftest.py).
ENGINES = ["redis", "db", "db-postgres", "cached_db", "file"]
WORKER_CLASSES = ["sync", "gthread", "gevent"]
#: (engine, worker class) rows of the short run: every engine and every worker class once or more.
SHORT_MATRIX = [("redis", "sync"), ("redis", "gthread"), ("redis", "gevent"), ("db", "sync"),
                ("db-postgres", "gthread"), ("cached_db", "sync"), ("file", "sync")]
FULL_MATRIX = [(engine, workers) for engine in ENGINES for workers in WORKER_CLASSES]
FULL_CLIENTS, FULL_SECONDS = 200, 30.0
SHORT_CLIENTS, SHORT_SECONDS = 40, 3.0
#: Seconds gunicorn keeps an idle connection open (its default, 2, is shorter than the queueing of a
#: saturated server: a gthread or gevent worker then closes connections whose next request is already
#: sent, and the client sees "Remote end closed connection without response").
KEEP_ALIVE = 30
#: A line of gunicorn's log with one of these tells of an error.
LOG_ERROR_MARKS = ("failed to", "Error", "Traceback", "WORKER TIMEOUT", "[ERROR]", "[CRITICAL]")

@dataclass(frozen=True)
class Server:
    """A running gunicorn serving :data:`APP`."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_boots(self) -> int:
        """How many times a worker booted (3 at start; more means a worker died or was killed)."""
        return self.log_text().count("Booting worker")


@contextmanager
def serve(settings: dict[str, Any], worker_class: str, workdir: Path) -> Iterator[Server]:
    """Gunicorn (3 workers; gthread with 4 threads each) running :data:`APP` with ``settings``."""
    port = free_port()
    log = workdir / f"gunicorn-{port}.log"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT),
           "WSGISESSION_TEST_SETTINGS": json.dumps(settings)}
    with log.open("ab") as log_file:
        command = [*gunicorn_command(APP, port, workdir, worker_class), "--keep-alive", str(KEEP_ALIVE)]
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(process, url, log)
        yield Server(url, log, process)
    finally:
        stop(process)


@contextmanager
def engine_settings(engine_id: str, workdir: Path, *, redis_url: str | None = None,
                    postgres_url: str | None = None, file_path: Path | None = None) -> Iterator[dict[str, Any]]:
    """Settings for ``engine_id`` whose data lives under ``workdir`` or under a unique prefix or table.

    ``redis_url``, ``postgres_url`` and ``file_path`` (an existing folder) replace the shared
    servers and ``workdir/sessions`` (a test's private ones); the servers must answer. The
    Redis keys and the PostgreSQL table are removed on exit.
    """
    unique = uuid.uuid4().hex[:12]
    prefix, table = f"wsgisession-load-{unique}", f"wsgisession_load_{unique}"
    redis_url = redis_url or servers.REDIS_URL
    postgres_url = postgres_url or servers.POSTGRES_URL
    settings: dict[str, Any] = {"SECRET_KEY": SECRET, "SESSION_ENGINE": engine_id.split("-")[0]}
    if engine_id in ("redis", "cached_db"):
        servers.require_redis(redis_url)
        url_key = "SESSION_REDIS_URL" if engine_id == "redis" else "SESSION_CACHE_URL"
        settings.update({url_key: redis_url, "SESSION_REDIS_PREFIX": prefix})
    if engine_id in ("db", "cached_db"):
        settings.update(SESSION_DB_URL=f"sqlite:///{workdir / 'sessions.sqlite3'}", SESSION_DB_TABLE=table)
    if engine_id == "db-postgres":
        servers.require_sql(postgres_url, "PostgreSQL")
        settings.update(SESSION_DB_URL=postgres_url, SESSION_DB_TABLE=table)
    if engine_id == "file":
        folder = file_path or workdir / "sessions"
        folder.mkdir(exist_ok=True)
        settings["SESSION_FILE_PATH"] = str(folder)
    try:
        yield settings
    finally:
        if "SESSION_REDIS_PREFIX" in settings:
            servers.drop_redis_keys(prefix, redis_url)
        if engine_id == "db-postgres":
            _drop_table(postgres_url, table)


def _drop_table(url: str, table: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS {table}"))
    finally:
        engine.dispose()


def run_row(engine_id: str, worker_class: str, clients: int, seconds: float, workdir: Path) -> LoadResult:
    """One row of the table: a fresh gunicorn and store, ``clients`` clients for ``seconds``."""
    workdir.mkdir(parents=True, exist_ok=True)
    with engine_settings(engine_id, workdir) as settings, serve(settings, worker_class, workdir) as server:
        result = drive(server.url, clients, seconds, engine_id, worker_class)
        result.log_errors = [line for line in server.log_text().splitlines()
                             if any(mark in line for mark in LOG_ERROR_MARKS)]
        return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.load_run", description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true",
                        help=f"every engine x worker class, {FULL_CLIENTS} clients, {FULL_SECONDS:g} s per row")
    parser.add_argument("--engine", action="append", choices=ENGINES, help="only these engines (repeatable)")
    parser.add_argument("--workers", action="append", choices=WORKER_CLASSES,
                        help="only these worker classes (repeatable)")
    parser.add_argument("--clients", type=int, help="clients per row")
    parser.add_argument("--seconds", type=float, help="seconds of load per row")
    args = parser.parse_args(argv)
    full = args.full or args.engine or args.workers
    matrix = [(engine, workers) for engine, workers in (FULL_MATRIX if full else SHORT_MATRIX)
              if engine in (args.engine or ENGINES) and workers in (args.workers or WORKER_CLASSES)]
    clients = args.clients or (FULL_CLIENTS if args.full else SHORT_CLIENTS)
    seconds = args.seconds or (FULL_SECONDS if args.full else SHORT_SECONDS)
    print(TABLE_HEADER, flush=True)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wsgisession-load-") as tmp:
        for engine, workers in matrix:
            result = run_row(engine, workers, clients, seconds, Path(tmp) / f"{engine}-{workers}")
            print(table_row(result), flush=True)
            problems += [f"{engine}/{workers}: {problem}" for problem in result.problems()]
    print(f"\n{clients} clients (one cookie jar each, sequential requests), {seconds:g} s per row;"
          " gunicorn: 3 workers, gthread with 4 threads each.")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
