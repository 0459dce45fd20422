"""What SESSION_NEW_TTL saves: the store's size after one-shot visitors, with the setting off and on.

    python -m benchmarks.new_ttl [--visitors 10000] [--returning 100] [--new-ttl 120]
                                 [--engines redis,sqlite,postgres,file,memory]

Each engine runs twice (SESSION_NEW_TTL off, then on) through the real middleware and
the real server or file system. ``visitors`` requests come without a cookie and get a
session holding a CSRF token, as a crawler fetching a form does; the first ``returning``
of them come back once, right away, as people do. The table counts the records in the
store after the visits, once NEW_TTL has passed (real time: Redis drops records by
itself), and after ``clear_expired`` (``wsgisession clearsessions``) for the engines
that keep expired records. Records are counted by SCAN of the run's prefix on Redis,
``count(*)`` on SQL, the files in the folder, and the dict of the memory store.

Every Redis key goes under a per-run prefix ``wsgisession-bench-<random>``, deleted at
the end; SQL tables are dropped; files go to a temporary folder. Nothing is flushed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from wsgisession import SessionMiddleware, get_session
from wsgisession.backends.server_side import StoreBackend
from wsgisession.stores.file import FILE_PREFIX

REDIS_URL = os.environ.get("WSGISESSION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("WSGISESSION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ENGINES = ("redis", "sqlite", "postgres", "file", "memory")
SECRET = secrets.token_urlsafe(48)


def form_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A page with a form: the session gets a CSRF token on the first visit, and is read on the next."""
    session = get_session(environ)
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@dataclass
class Engine:
    """One engine under test: its settings, how to count its records (given the middleware), its cleanup."""

    name: str
    settings: dict[str, Any]
    count: Callable[[SessionMiddleware], int]
    cleanup: Callable[[], None]


def build_engine(name: str, tmp: Path, unique: str) -> Engine:
    if name == "redis":
        return _redis_engine(f"wsgisession-bench-{unique}")
    if name in ("sqlite", "postgres"):
        return _sql_engine(f"sqlite:///{tmp / f'{unique}.sqlite3'}" if name == "sqlite" else POSTGRES_URL,
                           f"wsgisession_bench_{unique}", name)
    if name == "file":
        folder = tmp / f"files-{unique}"
        folder.mkdir(mode=0o700)
        return Engine(name, {"SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(folder)},
                      lambda _: sum(1 for path in folder.iterdir() if path.name.startswith(FILE_PREFIX)), lambda: None)
    # Room for every visitor: by default memory:// keeps 10,000 sessions and evicts the oldest.
    return Engine(name, {"SESSION_ENGINE": "cache", "SESSION_CACHE_URL": "memory://?max_entries=1000000"},
                  lambda middleware: len(_store(middleware)._records), lambda: None)


def _redis_engine(prefix: str) -> Engine:
    client = redis.Redis.from_url(REDIS_URL)

    def records(_: SessionMiddleware) -> int:  # the session records only (f"{prefix}:{{record id}}")
        return sum(1 for _ in client.scan_iter(match=f"{prefix}:{{*", count=1000))

    def drop() -> None:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()

    return Engine("redis", {"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": REDIS_URL, "SESSION_REDIS_PREFIX": prefix},
                  records, drop)


def _sql_engine(url: str, table: str, name: str) -> Engine:
    engine = sa.create_engine(url)

    def rows(_: SessionMiddleware) -> int:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())

    def drop() -> None:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()

    return Engine(name, {"SESSION_ENGINE": "db", "SESSION_DB_URL": url, "SESSION_DB_TABLE": table}, rows, drop)


def _store(middleware: SessionMiddleware) -> Any:
    backend = middleware.backend
    assert isinstance(backend, StoreBackend)
    return backend.store


def request(middleware: SessionMiddleware, cookie: str | None) -> str | None:
    """One GET of the form page; the session cookie's value the response set, if any."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "bench", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1"}
    if cookie is not None:
        environ["HTTP_COOKIE"] = f"sessionid={cookie}"
    headers: list[tuple[str, str]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        headers.extend(response_headers)

    b"".join(middleware(environ, start_response))
    for name, value in headers:
        if name == "Set-Cookie" and value.startswith("sessionid="):
            return value.split(";", 1)[0].removeprefix("sessionid=")
    return None


@dataclass
class Row:
    engine: str
    new_ttl: int | None
    seconds: float
    after_visits: int
    after_new_ttl: int
    after_clear: int | None


def visit(engine: Engine, new_ttl: int | None, visitors: int, returning: int) -> tuple[SessionMiddleware, float]:
    """``visitors`` first visits, then ``returning`` of them come back once; the middleware and seconds taken."""
    settings = {"SECRET_KEY": SECRET, "SESSION_NEW_TTL": new_ttl, **engine.settings}
    middleware = SessionMiddleware(form_app, settings)
    started = time.perf_counter()
    cookies = [request(middleware, None) for _ in range(visitors)]
    for cookie in cookies[:returning]:
        request(middleware, cookie)
    return middleware, time.perf_counter() - started


def run(args: argparse.Namespace, tmp: Path) -> list[Row]:
    run_id = uuid.uuid4().hex[:8]
    measured: list[tuple[Engine, SessionMiddleware, Row]] = []
    try:
        for name in args.engines:
            for new_ttl in (None, args.new_ttl):
                engine = build_engine(name, tmp, f"{run_id}_{'on' if new_ttl else 'off'}")
                print(f"{name}, SESSION_NEW_TTL={new_ttl}: {args.visitors} visitors...", flush=True)
                middleware, seconds = visit(engine, new_ttl, args.visitors, args.returning)
                if new_ttl is not None and seconds >= new_ttl:
                    print(f"  warning: the visits took {seconds:.0f} s, longer than NEW_TTL: use --new-ttl")
                row = Row(name, new_ttl, seconds, engine.count(middleware), 0, None)
                measured.append((engine, middleware, row))
        ends = time.time() + args.new_ttl + 1  # the last "on" run's records have all expired by then
        print(f"waiting {args.new_ttl + 1} s for NEW_TTL to pass...", flush=True)
        time.sleep(max(0.0, ends - time.time()))
        for engine, middleware, row in measured:
            row.after_new_ttl = engine.count(middleware)
            if middleware.backend.clear_expired(time.time()) is not None:
                row.after_clear = engine.count(middleware)
        return [row for _, _, row in measured]
    finally:
        for engine, _, _ in measured:
            engine.cleanup()


def table(rows: list[Row], args: argparse.Namespace) -> str:
    lines = [f"{args.visitors:,} one-shot visitors (a CSRF token each), {args.returning} of whom come back once;"
             f" records in the store",
             "",
             "| engine | SESSION_NEW_TTL | visits took | after the visits | after NEW_TTL passed |"
             " after clear_expired |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        cleared = "(expires by itself)" if row.after_clear is None else f"{row.after_clear:,}"
        lines.append(f"| {row.engine} | {'off' if row.new_ttl is None else f'{row.new_ttl} s'} | {row.seconds:.1f} s"
                     f" | {row.after_visits:,} | {row.after_new_ttl:,} | {cleared} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.new_ttl", description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=10_000)
    parser.add_argument("--returning", type=int, default=100)
    parser.add_argument("--new-ttl", type=int, default=120, help="seconds; longer than one engine's visits")
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args(argv)
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = sorted(set(args.engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engines {unknown}; choose among {', '.join(ENGINES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wsgisession-bench-") as tmp:
        print(table(run(args, Path(tmp)), args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
