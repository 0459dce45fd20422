"""Beaker's ``SessionMiddleware`` around the bare WSGI app.

Beaker is configured as its documentation shows, with a two-week ``timeout`` and cookie
(the others' lifetime) and everything else at its defaults: pickle as the data format,
``save_accessed_time`` on (a read also writes the session back, to record the access).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import redis
import sqlalchemy as sa
from beaker.container import MemoryNamespaceManager
from beaker.ext.database import DatabaseNamespaceManager
from beaker.middleware import SessionMiddleware

from ..common import SESSION_AGE, Built, Env, Unavailable, wsgi_app
from . import System
from ._sqlalchemy import apply_pragmas, trace_engine

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

ENVIRON_KEY = "beaker.session"


class BeakerSystem(System):
    name = "beaker"
    label = "Beaker"
    framework = "WSGI"
    distributions = ("beaker",)
    cookie_name = "beaker.session.id"

    def __init__(self) -> None:
        #: Beaker's Redis keys have no configurable prefix: the ids we were given, to delete.
        self._redis_ids: set[str] = set()
        self._redis_url: str | None = None

    def baseline(self, env: Env) -> WSGIApplication:
        return wsgi_app()

    def options(self, engine: str, env: Env) -> dict[str, Any]:
        """Beaker's ``session.*`` options for ``engine`` (also used by the load benchmark)."""
        common: dict[str, Any] = {"session.timeout": SESSION_AGE, "session.cookie_expires": SESSION_AGE}
        if engine == "memory":
            return {**common, "session.type": "memory"}
        if engine == "cookie":
            return {**common, "session.type": "cookie", "session.validate_key": env.secret}
        if engine == "redis":
            return {**common, "session.type": "ext:redis", "session.url": env.redis_url}
        if engine in ("file", "sql"):
            folder = env.folder(self.name, engine)
            options = {**common, "session.data_dir": str(folder / "data"), "session.lock_dir": str(folder / "lock")}
            if engine == "file":
                return {**options, "session.type": "file"}
            return {**options, "session.type": "ext:database", "session.url": f"sqlite:///{env.sqlite_path(self.name)}"}
        raise Unavailable(f"no {engine} back end")

    def build(self, engine: str, env: Env) -> Built:
        app = SessionMiddleware(wsgi_app(_session, _save), self.options(engine, env))
        built = Built(app, note="Beaker: pickle (its default format), save_accessed_time on (its default)")
        if engine == "memory":
            built.memory_entries = _memory_entries
        elif engine == "redis":
            self._redis_url = env.redis_url
            built.forget = self._redis_ids.add
        elif engine == "file":
            built.folder = env.folder(self.name, "file")
        elif engine == "sql":
            db_engine = _sqlite_engine(f"sqlite:///{env.sqlite_path(self.name)}")
            built.database = env.sqlite_path(self.name)
            built.trace_sql = lambda callback: trace_engine(db_engine, callback)
        return built

    def close(self) -> None:
        if self._redis_url and self._redis_ids:
            delete_redis_sessions(self._redis_url, self._redis_ids)
        for engine in DatabaseNamespaceManager.binds.dict.values():
            engine.dispose()


def delete_redis_sessions(url: str, ids: Iterable[str]) -> None:
    """Delete the ``ext:redis`` sessions ``ids`` (Beaker's keys carry no prefix of ours)."""
    client = redis.Redis.from_url(url)
    keys = sorted(f"beaker_cache:{key}:session" for key in ids)
    for first in range(0, len(keys), 500):
        client.unlink(*keys[first:first + 500])
    client.close()


def _session(environ: Any) -> Any:
    return environ[ENVIRON_KEY]


def _save(session: Any) -> None:
    session.save()


def _memory_entries() -> Mapping[Any, object]:
    # Beaker keeps each session's data dict under "session" in a per-id namespace; a save stores a new dict.
    return {name: space.get("session") for name, space in MemoryNamespaceManager.namespaces.dict.items()}


def _sqlite_engine(url: str) -> sa.Engine:
    """The engine Beaker's ``ext:database`` would make for ``url``, with the shared SQLite pragmas.

    Beaker keeps one engine per URL in a class-level registry; filling it first is how an
    application hands Beaker a configured engine.
    """
    engine: sa.Engine = DatabaseNamespaceManager.binds.get(url, lambda: sa.create_engine(url))
    apply_pragmas(engine)
    return engine
