"""Where one request's time goes: each step of a session read and write, timed alone.

    python -m benchmarks.pieces [--repeat 7] [--number 20000]

The steps are the calls the middleware makes for a request that reads a counter and writes
it back on the in-process (``memory://``) engine, each run by ``timeit`` on its own (best of
``--repeat`` runs, µs per call), next to the whole request through the middleware. The sum
of the steps is not the whole: the rest is the glue between them (calls, attribute reads).
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from typing import Any

from wsgisession import SessionMiddleware, _changes, _lifecycle, cookies, get_session
from wsgisession._headers import add_session_headers
from wsgisession.stores.base import Change

from .machine import header

SECRET = "benchmark-secret-key-0123456789abcdef"


def counter_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    session = get_session(environ)
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
    change = Change(set={"count": "42"}, meta=_lifecycle.encode_meta(_lifecycle.Meta(None, time.time())),
                    expires_at=time.time() + 3600)
    store.save(record_id, Change(set=loaded, meta=change.meta, expires_at=change.expires_at, create=True))
    signer = backend.signer  # type: ignore[attr-defined]
    set_cookie = cookies.set_cookie_header(settings, value, 1209600, time.time() + 1209600)
    return [
        ("read the Cookie header", lambda: cookies.read_session_cookie(cookie, settings.cookie_name)),
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


def best(function: Callable[[], object], repeat: int, number: int) -> float:
    return min(timeit.repeat(function, repeat=repeat, number=number)) / number * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args(argv)
    middleware = SessionMiddleware(counter_app, {"SECRET_KEY": SECRET, "SESSION_ENGINE": "cache",
                                                 "SESSION_CACHE_URL": "memory://"})
    first: list[tuple[str, str]] = []

    def keep_headers(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        first.extend(headers)
        return lambda data: None

    middleware({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, keep_headers)
    cookie = next(value for name, value in first if name == "Set-Cookie").split(";", 1)[0]
    rows = [(name, best(function, args.repeat, args.number)) for name, function in steps(middleware, cookie)]
    whole = [(name, best(function, args.repeat, args.number)) for name, function in requests(middleware, cookie)]
    print(header("benchmarks.pieces", list(argv if argv is not None else sys.argv[1:])))
    print()
    print("| step of a write request (memory engine) | µs per call |")
    print("|---|---|")
    for name, micros in rows:
        print(f"| {name} | {micros:.2f} |")
    print(f"| **sum of the steps** | **{sum(micros for _, micros in rows):.2f}** |")
    for name, micros in whole:
        print(f"| {name} | {micros:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
