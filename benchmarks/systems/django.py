"""Django's ``SessionMiddleware`` in a Django project of one view per scenario.

Django is configured once per process (``settings.configure``); each engine gets its own
``WSGIHandler`` built while ``SESSION_ENGINE`` names it. The two cache engines differ only
in ``SESSION_CACHE_ALIAS``, which Django reads on every request: ``prepare`` sets it before
each batch of requests. This module is also the project's ``ROOT_URLCONF``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from ..common import SCENARIOS, SESSION_AGE, SQLITE_PRAGMAS, Built, Env, Unavailable, body_for, touch
from . import System

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: engine -> (SESSION_ENGINE, SESSION_CACHE_ALIAS or None).
ENGINES = {
    "memory": ("django.contrib.sessions.backends.cache", "locmem"),
    "cookie": ("django.contrib.sessions.backends.signed_cookies", None),
    "redis": ("django.contrib.sessions.backends.cache", "redis"),
    "file": ("django.contrib.sessions.backends.file", None),
    "sql": ("django.contrib.sessions.backends.db", None),
}
#: LocMemCache culls a third of its entries past MAX_ENTRIES (default 300); far above what a run creates.
LOCMEM_MAX_ENTRIES = 10_000_000


class DjangoSystem(System):
    name = "django"
    label = "Django"
    framework = "Django"
    distributions = ("django",)
    cookie_name = "sessionid"

    def baseline(self, env: Env) -> WSGIApplication:
        configure(env)
        return _handler([], None)

    def build(self, engine: str, env: Env) -> Built:
        if engine not in ENGINES:
            raise Unavailable(f"no {engine} back end")
        configure(env)
        session_engine, alias = ENGINES[engine]
        handler = _handler(["django.contrib.sessions.middleware.SessionMiddleware"], session_engine)
        built = Built(handler, note="Django: JSON (its default); SQLite with the shared pragmas (init_command)")
        if alias is not None:
            built.prepare = _use_cache(alias)
        if engine == "memory":
            built.memory_entries = _locmem_entries
        elif engine == "file":
            built.folder = env.folder(self.name, "file")
        elif engine == "sql":
            _migrate()
            built.database = env.sqlite_path(self.name)
            built.trace_sql = _trace
        return built

    def close(self) -> None:
        if settings.configured:
            from django.db import connections

            connections.close_all()


def configure(env: Env) -> None:
    """Configure Django for this process once (later calls do nothing)."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False, SECRET_KEY=env.secret, ALLOWED_HOSTS=["localhost", "127.0.0.1"], USE_TZ=True,
        ROOT_URLCONF=__name__, INSTALLED_APPS=["django.contrib.sessions"], MIDDLEWARE=[],
        SESSION_COOKIE_AGE=SESSION_AGE, SESSION_FILE_PATH=str(env.folder("django", "file")),
        DATABASES={"default": {
            "ENGINE": "django.db.backends.sqlite3", "NAME": str(env.sqlite_path("django")), "CONN_MAX_AGE": None,
            "OPTIONS": {"init_command": ";".join(SQLITE_PRAGMAS)},
        }},
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
            "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sessions",
                       "OPTIONS": {"MAX_ENTRIES": LOCMEM_MAX_ENTRIES}},
            "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.redis_url,
                      "KEY_PREFIX": env.prefix("django")},
        },
    )
    django.setup()


def _handler(middleware: list[str], session_engine: str | None) -> WSGIApplication:
    """A WSGIHandler built while MIDDLEWARE and SESSION_ENGINE name what it should load."""
    from django.core.handlers.wsgi import WSGIHandler

    if not settings.configured:
        raise RuntimeError("configure(env) first")
    settings.MIDDLEWARE = middleware
    if session_engine is not None:
        settings.SESSION_ENGINE = session_engine
    handler: WSGIApplication = WSGIHandler()
    return handler


def _use_cache(alias: str) -> Callable[[], None]:
    def prepare() -> None:
        settings.SESSION_CACHE_ALIAS = alias

    return prepare


def _locmem_entries() -> Mapping[Any, object]:
    from django.core.cache import caches

    # LocMemCache keeps pickled bytes per key; a set stores new bytes.
    return caches["locmem"]._cache  # type: ignore[no-any-return]


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", "sessions", verbosity=0, interactive=False)


def _trace(callback: Callable[[str], None]) -> None:
    from django.db import connection

    connection.ensure_connection()
    connection.connection.set_trace_callback(callback)


def _view(scenario: str) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None) if scenario != "untouched" else None
        if session is not None:
            touch(session, scenario)
        return HttpResponse(body_for(session), content_type="text/plain")

    return view


urlpatterns = [path(scenario, _view(scenario)) for scenario in SCENARIOS]
