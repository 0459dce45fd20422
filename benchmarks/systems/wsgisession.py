"""wsgisession around the bare WSGI app."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wsgisession import SessionMiddleware, get_session

from ..common import Built, Env, Unavailable, wsgi_app
from . import System
from ._sqlalchemy import trace_engine

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class WsgisessionSystem(System):
    name = "wsgisession"
    label = "wsgisession"
    framework = "WSGI"
    distributions = ("wsgi-session",)
    cookie_name = "sessionid"

    def __init__(self) -> None:
        self._built: list[SessionMiddleware] = []

    def baseline(self, env: Env) -> WSGIApplication:
        return wsgi_app()

    def settings(self, engine: str, env: Env) -> dict[str, Any]:
        """The settings dict for ``engine`` (also used by the load benchmark)."""
        common = {"SECRET_KEY": env.secret, "SESSION_REDIS_PREFIX": env.prefix(self.name)}
        per_engine: dict[str, dict[str, Any]] = {
            "memory": {"SESSION_ENGINE": "cache", "SESSION_CACHE_URL": "memory://"},
            "cookie": {"SESSION_ENGINE": "signed_cookies"},
            "redis": {"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": env.redis_url},
            # Only in the load benchmark: requests of one session take turns, so none is lost.
            "redis-locked": {"SESSION_ENGINE": "redis", "SESSION_REDIS_URL": env.redis_url, "SESSION_LOCKING": True},
            "file": {"SESSION_ENGINE": "file", "SESSION_FILE_PATH": str(env.folder(self.name, "file"))},
            "sql": {"SESSION_ENGINE": "db", "SESSION_DB_URL": f"sqlite:///{env.sqlite_path(self.name)}"},
            # Reads from the worker's memory; the database again once a copy is LOCAL_COPY_TTL old.
            "cached_db": {"SESSION_ENGINE": "cached_db", "SESSION_CACHE_URL": "memory://",
                          "SESSION_DB_URL": f"sqlite:///{env.sqlite_path(self.name + '-cached')}"},
        }
        if engine not in per_engine:
            raise Unavailable(f"no {engine} engine")
        return {**common, **per_engine[engine]}

    def build(self, engine: str, env: Env) -> Built:
        middleware = SessionMiddleware(wsgi_app(get_session), self.settings(engine, env), **_features())
        self._built.append(middleware)
        built = Built(middleware)
        store = getattr(middleware.backend, "store", None)
        if engine == "memory":
            built.memory_entries = _records(store)
        elif engine == "file":
            built.folder = env.folder(self.name, "file")
        elif engine == "sql":
            built.database = env.sqlite_path(self.name)
            built.trace_sql = _tracer(store)
        elif engine == "cached_db":
            built.database = env.sqlite_path(self.name + "-cached")
            built.trace_sql = _tracer(getattr(store, "db", None))
        return built

    def close(self) -> None:
        for middleware in self._built:
            store = getattr(middleware.backend, "store", None)
            close = getattr(store, "close", None)
            if close is not None:
                close()
            client = getattr(store, "client", None)
            if client is not None:
                client.close()


def _features() -> dict[str, Any]:
    """``WSGISESSION_BENCH_FEATURES=metrics,hooks``: the cost of each when on (docs/metrics.md quotes it).

    ``metrics``: an OpenTelemetry SDK meter provider, read in memory; ``hooks``: a no-op hook on every event.
    """
    wanted = os.environ.get("WSGISESSION_BENCH_FEATURES", "").split(",")
    features: dict[str, Any] = {}
    if "metrics" in wanted:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        features["meter_provider"] = MeterProvider(metric_readers=[InMemoryMetricReader()])
    if "hooks" in wanted:
        from wsgisession.hooks import EVENT_NAMES, Hooks

        hooks = Hooks()
        for name in EVENT_NAMES:
            hooks.on(name, lambda event: None)
        features["hooks"] = hooks
    return features


def _records(store: Any) -> Callable[[], Mapping[Any, object]] | None:
    """The memory store's dict of immutable records (a save puts a new object there), if it still has one."""
    if not isinstance(getattr(store, "_records", None), dict):
        return None
    return lambda: store._records


def _tracer(store: Any) -> Callable[[Callable[[str], None]], None] | None:
    """Traces the SQL store's connections, reached through its private database getter (None if it moved)."""
    ready = getattr(store, "_ready", None)
    if ready is None:
        return None
    return lambda callback: trace_engine(ready().engine, callback)
