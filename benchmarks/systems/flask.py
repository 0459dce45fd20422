"""Flask with Flask-Session (server-side engines) or Flask's own signed-cookie session.

Flask-Session runs at its defaults (msgpack, ``SESSION_PERMANENT``, and
``SESSION_REFRESH_EACH_REQUEST``, which saves every non-empty session on every request
to push its expiry forward). Its in-process and file stores are cachelib's ``SimpleCache``
and ``FileSystemCache`` (the ``cachelib`` type; the ``filesystem`` type is a deprecated
wrapper of the same class), with a threshold high enough that no prune drops the
benchmark's session mid-run (their default of 500 entries would).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import flask
import redis
from cachelib import FileSystemCache, SimpleCache
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy

from ..common import SCENARIOS, SESSION_AGE, Built, Env, Unavailable, body_for, touch
from . import System
from ._sqlalchemy import apply_pragmas, trace_engine

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: cachelib prunes a store past this many entries; far above what a run creates.
CACHE_THRESHOLD = 10_000_000


class FlaskSystem(System):
    name = "flask"
    label = "Flask-Session"
    framework = "Flask"
    distributions = ("flask", "flask-session")
    cookie_name = "session"

    def __init__(self) -> None:
        self._clients: list[redis.Redis] = []
        self._databases: list[tuple[flask.Flask, SQLAlchemy]] = []

    def baseline(self, env: Env) -> WSGIApplication:
        return make_app(use_session=False)

    def configure(self, app: flask.Flask, engine: str, env: Env) -> Built:
        """Set up ``app``'s session interface for ``engine`` (also used by the load benchmark)."""
        app.config.update(SECRET_KEY=env.secret, PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_AGE))
        built = Built(app, note="Flask-Session: msgpack, SESSION_REFRESH_EACH_REQUEST on (its defaults)")
        if engine == "cookie":
            built.note = "Flask signed cookies: Flask's own SecureCookieSessionInterface"
            return built
        app.config["SESSION_KEY_PREFIX"] = env.prefix(self.name) + ":"
        if engine == "memory":
            cache = SimpleCache(threshold=CACHE_THRESHOLD, default_timeout=SESSION_AGE)
            app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
            built.memory_entries = _entries(cache)
        elif engine == "redis":
            client = redis.Redis.from_url(env.redis_url)
            self._clients.append(client)
            app.config.update(SESSION_TYPE="redis", SESSION_REDIS=client)
        elif engine == "file":
            folder = env.folder(self.name, "file")
            files = FileSystemCache(str(folder), threshold=CACHE_THRESHOLD, default_timeout=SESSION_AGE)
            app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=files)
            built.folder = folder
        elif engine == "sql":
            self._sql(app, env, built)
        else:
            raise Unavailable(f"no {engine} back end")
        Session(app)
        return built

    def build(self, engine: str, env: Env) -> Built:
        return self.configure(make_app(use_session=True), engine, env)

    def _sql(self, app: flask.Flask, env: Env, built: Built) -> None:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{env.sqlite_path(self.name)}"
        db = SQLAlchemy(app)
        with app.app_context():
            apply_pragmas(db.engine)
        self._databases.append((app, db))
        app.config.update(SESSION_TYPE="sqlalchemy", SESSION_SQLALCHEMY=db)
        built.database = env.sqlite_path(self.name)
        built.trace_sql = _tracer(app, db)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        for app, db in self._databases:
            with app.app_context():
                db.engine.dispose()


def make_app(*, use_session: bool) -> flask.Flask:
    """A Flask app with one route per scenario; ``use_session`` runs the shared app logic."""
    app = flask.Flask(__name__)

    def view(scenario: str) -> Callable[[], bytes]:
        def handle() -> bytes:
            session = flask.session if use_session and scenario != "untouched" else None
            if session is not None:
                touch(session, scenario)
            return body_for(session)

        return handle

    for scenario in SCENARIOS:
        app.add_url_rule(f"/{scenario}", scenario, view(scenario))
    return app


def _entries(cache: SimpleCache) -> Callable[[], Mapping[Any, object]]:
    # SimpleCache keeps (expiry, pickled value) tuples; a set stores a new tuple.
    return lambda: cache._cache


def _tracer(app: flask.Flask, db: SQLAlchemy) -> Callable[[Callable[[str], None]], None]:
    def install(callback: Callable[[str], None]) -> None:
        with app.app_context():
            trace_engine(db.engine, callback)

    return install
