"""What every system adapter shares: the scenarios, the app logic, the run's resources.

The app logic is :func:`touch`: each adapter calls it from its framework's view with its
framework's session object, so every system does the same thing with the same data.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: The four request kinds, in table order. The path of each request is ``"/" + scenario``.
SCENARIOS = ("untouched", "read", "write", "new")
#: What each scenario means, for the legends.
SCENARIO_MEANING = {
    "untouched": "session cookie sent, session never used",
    "read": "one key read",
    "write": "a counter incremented",
    "new": "first visit (no cookie), one key set",
}
#: Storage families, in table order.
ENGINES = ("memory", "cookie", "redis", "file", "sql", "cached_db")
ENGINE_LABEL = {
    "memory": "memory / local cache",
    "cookie": "signed cookies",
    "redis": "redis",
    "file": "file",
    "sql": "SQL (SQLite)",
    "cached_db": "cached_db (memory:// + SQLite)",
}
#: Seconds of inactivity before a session expires, for every system (wsgisession's and Django's default).
SESSION_AGE = 14 * 24 * 3600
#: Where the SQLite-backed systems agree to keep their files: WAL and synchronous=NORMAL,
#: as wsgisession's db engine sets up, so the table compares session layers, not fsync policies.
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def touch(session: MutableMapping[str, Any], scenario: str) -> bool:
    """The app logic of every system: do ``scenario`` to ``session``; True if it changed it."""
    if scenario == "read":
        session.get("count")
        return False
    if scenario == "write":
        session["count"] = session.get("count", 0) + 1
        return True
    if scenario == "new":
        session["count"] = 1
        return True
    return False


def scenario_of(path: str) -> str:
    """The scenario a request path names (``/write`` -> ``write``); ``untouched`` for anything else."""
    name = path.strip("/")
    return name if name in SCENARIOS else "untouched"


def body_for(session: Mapping[str, Any] | None) -> bytes:
    """The response body: the counter when the request used a session, else ``ok``."""
    if session is None:
        return b"ok"
    return str(session.get("count", 0)).encode()


class Unavailable(Exception):
    """A system cannot run on an engine here; the message says why (printed as ``n/a``)."""


@dataclass
class Built:
    """One system wired to one engine, ready to be called."""

    app: WSGIApplication
    #: Called (untimed) before each timed loop: puts process-wide settings in place.
    prepare: Callable[[], None] | None = None
    #: The folder a file engine writes to (its changes are counted as writes).
    folder: Path | None = None
    #: The SQLite file of an SQL engine (``PRAGMA data_version`` tells writes).
    database: Path | None = None
    #: Installs a callback on every SQLite connection the library uses (statement counts).
    trace_sql: Callable[[Callable[[str], None]], None] | None = None
    #: The in-process store's entries (key -> stored object), to tell writes on memory engines.
    memory_entries: Callable[[], Mapping[Any, object]] | None = None
    #: Told every session cookie value the app sent, for cleanup (stores with no key prefix).
    forget: Callable[[str], None] | None = None
    #: A configuration note printed under the table.
    note: str = ""


@dataclass
class Env:
    """The resources of one run: a temp folder, and a Redis URL and key prefix nobody else uses."""

    tmp: Path
    redis_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(40))

    @classmethod
    def from_environ(cls, tmp: Path) -> Env:
        return cls(tmp, os.environ.get("WSGISESSION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))

    @property
    def redis_prefix(self) -> str:
        """Every Redis key the benchmark creates (Beaker's aside) starts with this."""
        return f"wsgisession-bench-{self.run_id}"

    def prefix(self, system: str) -> str:
        return f"{self.redis_prefix}:{system}"

    def folder(self, system: str, engine: str) -> Path:
        path = self.tmp / f"{system}-{engine}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sqlite_path(self, system: str) -> Path:
        return self.folder(system, "sql") / "sessions.sqlite3"


def session_cookie(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The value ``Set-Cookie`` gives the cookie ``name`` as a browser sends it back, or None.

    None also when no header sets it or a header deletes it (an empty value).
    """
    for header, value in headers:
        if header.lower() != "set-cookie":
            continue
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value.strip())
        except CookieError:
            continue
        if name in jar and jar[name].value:
            return jar[name].coded_value
    return None


def wsgi_app(session_of: Callable[[Any], MutableMapping[str, Any]] | None = None,
             save: Callable[[Any], None] | None = None) -> WSGIApplication:
    """The bare WSGI app; with ``session_of`` (environ -> session) it runs :func:`touch`.

    ``save`` is called after a change, for libraries whose API asks for it (Beaker's ``save()``).
    """

    def app(environ: Any, start_response: Any) -> list[bytes]:
        scenario = scenario_of(environ["PATH_INFO"])
        session = None
        if session_of is not None and scenario != "untouched":
            session = session_of(environ)
            if touch(session, scenario) and save is not None:
                save(session)
        body = body_for(session)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def require_cookie(headers: Iterable[tuple[str, str]], name: str) -> str:
    """The session cookie a first visit set; RuntimeError if it set none."""
    value = session_cookie(headers, name)
    if value is None:
        raise RuntimeError(f"a first visit set no {name!r} cookie (headers: {list(headers)!r})")
    return value
