"""Where one request's time goes: each step of a session read and write, timed alone.

    python -m benchmarks.internals.pieces [--repeat 7] [--number 20000] [--redis]

The steps are the calls the middleware makes for a request that reads a counter and writes
it back on the in-process (``memory://``) engine, each run by ``timeit`` on its own (best of
``--repeat`` runs, µs per call), next to the whole request through the middleware. The sum
of the steps is not the whole: the rest is the glue between them (calls, attribute reads).

A second table reads a hostile Cookie header (``sessionid=`` + spaces + ``x"``, the
hardening issue's) of 1, 8 and 64 KB with wsgisession's parser and with werkzeug's
``parse_cookie``, whose pattern backtracks on it in time quadratic in its length (werkzeug
is timed once per size, best of ``--repeat``, and not at 64 KB: about a minute).

``--redis`` adds a third table on the local Redis (``WSGISESSION_TEST_REDIS_URL``): a raw
socket ``GET``, redis-py's ``GET``, the store's ``load`` and ``save`` and requests through
the middleware, interleaved (median of ``--repeat`` rounds), to split a Redis request's time
into round trips, client and middleware.
"""

from __future__ import annotations

import argparse
import functools
import os
import socket
import statistics
import sys
import time
import timeit
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from werkzeug.sansio.http import parse_cookie

from wsgisession import SessionMiddleware, _changes, _lifecycle, cookies, get_session
from wsgisession._headers import add_session_headers
from wsgisession.stores.base import Change
from wsgisession.stores.redis import RedisStore

from ..machine import header

SECRET = "benchmark-secret-key-0123456789abcdef"


def counter_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """``/read`` reads the counter; any other path adds one to it."""
    session = get_session(environ)
    if environ["PATH_INFO"] == "/read":
        session.get("count")
    else:
        session["count"] = session.get("count", 0) + 1
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def steps(middleware: SessionMiddleware, cookie: str) -> list[tuple[str, Callable[[], object]]]:
    """The steps of one write, each a callable doing what the middleware does for it."""
    backend = middleware.backend
    store = backend.store  # type: ignore[attr-defined]
    settings, serializer = middleware.settings, middleware._context.serializer
    value = cookies.read_session_cookie(cookie, settings.cookie_name) or ""
    key = _lifecycle.new_session_key()
    record_id = _lifecycle.record_id(key)
    loaded = {"count": "41"}
    change = Change(set={"count": "42"}, meta=_lifecycle.encode_meta(None, time.time()),
                    expires_at=time.time() + 3600)
    store.save(record_id, Change(set=loaded, meta=change.meta, expires_at=change.expires_at, create=True))
    signer = backend.signer  # type: ignore[attr-defined]
    set_cookie = cookies.set_cookie_header(settings, value, 1209600, time.time() + 1209600)
    return [
        ("read the Cookie header", lambda: cookies.read_session_cookies(cookie, settings.cookie_name)),
        ("check the signature (HMAC-SHA256)", lambda: signer.unsign(value)),
        ("record id (SHA-256 of the key)", lambda: _lifecycle.record_id(key)),
        ("load the record (memory store)", lambda: store.load(record_id)),
        ("decode one value (JSON)", lambda: serializer.loads("41")),
        ("what changed (serialize, compare)", lambda: _changes.changes(serializer.dumps, {"count": 42}, loaded,
                                                                      {"count"})),
        ("save the change (memory store)", lambda: store.save(record_id, change)),
        ("Set-Cookie header", lambda: cookies.set_cookie_header(settings, value, 1209600, time.time() + 1209600)),
        ("merge the headers", lambda: add_session_headers([("Content-Type", "text/plain")],
                                                          [set_cookie, ("Vary", "Cookie")])),
    ]


def requests(middleware: SessionMiddleware, cookie: str) -> list[tuple[str, Callable[[], object]]]:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_COOKIE": cookie}
    bare = SessionMiddleware(bare_app, {"SECRET_KEY": SECRET, "SESSION_CACHE_URL": "memory://",
                                        "SESSION_ENGINE": "cache"})
    return [
        ("the bare app alone", lambda: bare_app(dict(environ), start_response)),
        ("untouched request (bare app in the middleware)", lambda: bare(dict(environ), start_response)),
        ("whole write request (read, +1, save, Set-Cookie)", lambda: middleware(dict(environ), start_response)),
    ]


def hostile_header_rows(repeat: int) -> list[tuple[str, float, float | None]]:
    """(size, µs to read the session cookie with wsgisession, µs with werkzeug or None) per size."""
    rows = []
    for kilobytes, with_werkzeug in ((1, True), (8, True), (64, False)):
        header = "sessionid=" + " " * (kilobytes * 1024 - 12) + 'x"'
        ours = best(functools.partial(cookies.read_session_cookies, header, "sessionid"), repeat, 200)
        theirs = best(functools.partial(parse_cookie, header), repeat, 1) if with_werkzeug else None
        rows.append((f"{kilobytes} KB", ours, theirs))
    return rows


def redis_rows(repeat: int, number: int) -> list[tuple[str, float]]:
    """Each Redis request split into its parts, timed interleaved on the same server."""
    url = os.environ.get("WSGISESSION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"wsgisession-bench-{uuid.uuid4().hex[:8]}"
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": url,
                "SESSION_REDIS_PREFIX": prefix}
    middleware = SessionMiddleware(counter_app, settings)
    memory = SessionMiddleware(counter_app, {"SECRET_KEY": SECRET, "SESSION_ENGINE": "cache",
                                             "SESSION_CACHE_URL": "memory://"})
    store: RedisStore = middleware.backend.store  # type: ignore[attr-defined]
    client = store.client
    cookie, memory_cookie = first_cookie(middleware), first_cookie(memory)
    unsigned = middleware.backend.signer.unsign(cookie.split("=", 1)[1])  # type: ignore[attr-defined]
    record_id = _lifecycle.record_id(unsigned[0])
    record = store.load(record_id)
    assert record is not None
    client.set(f"{prefix}:floor", "x" * 100)
    raw = socket.create_connection(_address(client))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    floor_key = f"{prefix}:floor".encode()
    get_command = b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(floor_key), floor_key)

    def raw_get() -> None:
        raw.sendall(get_command)
        raw.recv(4096)

    def save() -> bool:
        return store.save(record_id, Change(set={"count": "7"}, meta=record.meta, expires_at=time.time() + 3600,
                                     base=None, version=None))

    def busy_loop() -> int:
        # Little code and data, unlike a request: shows what the code a request runs costs
        # between round trips (its caches went cold while the process waited) over its own time.
        total = 0
        for number in range(400):
            total += number
        return total

    def request(app: SessionMiddleware, path: str, value: str) -> Callable[[], object]:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_COOKIE": value}
        return lambda: app(dict(environ), ignore_response)

    parts: list[tuple[str, Callable[[], object]]] = [
        ("GET on a raw socket", raw_get),
        ("GET with redis-py", lambda: client.get(f"{prefix}:floor")),
        ("the store's load (HGETALL)", lambda: store.load(record_id)),
        ("a read request through the middleware", request(middleware, "/read", cookie)),
        ("a read request on the memory engine", memory_read := request(memory, "/read", memory_cookie)),
        ("the store's load, then a memory-engine read request", lambda: (store.load(record_id), memory_read())),
        ("the store's load, then its save (EVALSHA)", lambda: (store.load(record_id), save())),
        ("a write request on the memory engine", memory_write := request(memory, "/write", memory_cookie)),
        ("the store's load, a memory-engine write request, then its save",
         lambda: (store.load(record_id), memory_write(), save())),
        ("a busy loop of a few lines (about as long)", busy_loop),
        ("the store's load, that loop, then its save", lambda: (store.load(record_id), busy_loop(), save())),
        ("a write request through the middleware", request(middleware, "/write", cookie)),
    ]
    rounds: dict[str, list[float]] = {name: [] for name, _ in parts}
    try:
        for _ in range(repeat):
            for name, function in parts:
                rounds[name].append(timeit.timeit(function, number=number) / number * 1e6)
    finally:
        raw.close()
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()
    return [(name, statistics.median(times)) for name, times in rounds.items()]


def _address(client: Any) -> tuple[str, int]:
    kwargs = client.connection_pool.connection_kwargs
    return kwargs.get("host", "127.0.0.1"), int(kwargs.get("port", 6379))


def ignore_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
    return lambda data: None


def first_cookie(middleware: SessionMiddleware) -> str:
    """The session cookie (``name=value``) a first visit to a counter app sets."""
    headers: list[tuple[str, str]] = []

    def keep_headers(status: str, sent: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        headers.extend(sent)
        return lambda data: None

    middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/write"}, keep_headers)
    return next(value for name, value in headers if name == "Set-Cookie").split(";", 1)[0]


def best(function: Callable[[], object], repeat: int, number: int) -> float:
    return min(timeit.repeat(function, repeat=repeat, number=number)) / number * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--redis", action="store_true", help="also split a Redis request (local Redis)")
    args = parser.parse_args(argv)
    middleware = SessionMiddleware(counter_app, {"SECRET_KEY": SECRET, "SESSION_ENGINE": "cache",
                                                 "SESSION_CACHE_URL": "memory://"})
    cookie = first_cookie(middleware)
    rows = [(name, best(function, args.repeat, args.number)) for name, function in steps(middleware, cookie)]
    whole = [(name, best(function, args.repeat, args.number)) for name, function in requests(middleware, cookie)]
    print(header("benchmarks.internals.pieces", list(argv if argv is not None else sys.argv[1:])))
    print()
    print("| step of a write request (memory engine) | µs per call |")
    print("|---|---|")
    for name, micros in rows:
        print(f"| {name} | {micros:.2f} |")
    print(f"| **sum of the steps** | **{sum(micros for _, micros in rows):.2f}** |")
    for name, micros in whole:
        print(f"| {name} | {micros:.2f} |")
    print()
    print('| a hostile Cookie header: `sessionid=` + spaces + `x"` | wsgisession µs | werkzeug parse_cookie µs |')
    print("|---|---|---|")
    for size, ours, theirs in hostile_header_rows(args.repeat):
        print(f"| {size} | {ours:.1f} | {'not run' if theirs is None else f'{theirs:,.0f}'} |")
    if args.redis:
        print()
        print("| a Redis request, in parts (interleaved) | µs per call |")
        print("|---|---|")
        for name, micros in redis_rows(args.repeat, max(1, args.number // 20)):
            print(f"| {name} | {micros:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
