"""A Django project's session settings, pasted unchanged, run against the real servers.

Also the start-up warning for a per-process ``memory://`` cache in a multi-process server.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import pytest
from webtest import TestApp

from tests import servers
from tests.conftest import SECRET, _drop_table
from wsgisession import SessionMiddleware, get_session


def counter_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    session = get_session(environ)
    session["count"] = session.get("count", 0) + 1
    body = str(session["count"]).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def counts(settings: dict[str, Any]) -> list[str]:
    client = TestApp(SessionMiddleware(counter_app, settings))
    return [client.get("/").text for _ in range(3)]


def django_database(url: str, engine: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {"ENGINE": engine, "NAME": parts.path.lstrip("/"), "USER": parts.username or "",
            "PASSWORD": parts.password or "", "HOST": parts.hostname or "", "PORT": str(parts.port or "")}


@pytest.mark.parametrize(("url", "engine", "server"), [
    (servers.POSTGRES_URL, "django.db.backends.postgresql", "PostgreSQL"),
    (servers.MARIADB_URL, "django.db.backends.mysql", "MariaDB"),
])
def test_django_databases_block_runs_on_the_real_server(url: str, engine: str, server: str) -> None:
    servers.require_sql(url, server)
    table = f"wsgisession_test_{uuid.uuid4().hex[:12]}"
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "django.contrib.sessions.backends.db",
                "SESSION_DB_TABLE": table, "DATABASES": {"default": django_database(url, engine)}}
    try:
        assert counts(settings) == ["1", "2", "3"]
    finally:
        _drop_table(url, table)


def test_django_sqlite_block_with_a_pathlib_name(tmp_path: Any) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "django.contrib.sessions.backends.db",
                "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "db.sqlite3"}}}
    assert counts(settings) == ["1", "2", "3"]
    assert (tmp_path / "db.sqlite3").exists()


@pytest.mark.parametrize("backend", ["django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache"])
def test_django_redis_caches_block_runs_on_redis(backend: str, redis_prefix: str) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
                "SESSION_REDIS_PREFIX": redis_prefix,
                "CACHES": {"default": {"BACKEND": backend, "LOCATION": servers.REDIS_URL}}}
    assert counts(settings) == ["1", "2", "3"]


def test_django_memcached_caches_block_runs_on_memcached(memcached_url: str) -> None:
    settings = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
                "SESSION_REDIS_PREFIX": f"wsgisession-test-{uuid.uuid4().hex[:12]}",
                "SESSION_CACHE_ALIAS": "sessions",
                "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
                           "sessions": {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                                        "LOCATION": memcached_url.removeprefix("memcached://")}}}
    assert counts(settings) == ["1", "2", "3"]


# --- memory:// in several processes ---------------------------------------------------


MEMORY = {"SECRET_KEY": SECRET, "SESSION_ENGINE": "cache", "SESSION_CACHE_URL": "memory://"}


def per_process_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if "inside each worker process" in record.getMessage()]


def test_memory_cache_in_several_processes_is_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    """gunicorn sets wsgi.multiprocess when it runs several workers: the first request says so, once."""
    client = TestApp(SessionMiddleware(counter_app, MEMORY))
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        for _ in range(3):
            client.get("/", extra_environ={"wsgi.multiprocess": True})
    [line] = per_process_warnings(caplog)
    assert "logged out whenever another worker answers" in line and "redis://" in line


def test_memory_cache_in_one_process_is_not_warned(caplog: pytest.LogCaptureFixture) -> None:
    client = TestApp(SessionMiddleware(counter_app, MEMORY))
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        client.get("/", extra_environ={"wsgi.multiprocess": False})
        client.get("/", extra_environ={"wsgi.multiprocess": True})  # only the first request is looked at
    assert per_process_warnings(caplog) == []

