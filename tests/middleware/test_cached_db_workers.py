"""cached_db with ``memory://``: several workers, each with a cache of its own, one database.

Each "worker" is a middleware of its own (its own process-local cache) on one SQLite or
PostgreSQL database; time is the test's clock, so the bound is crossed without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware
from wsgisession.backends.server_side import StoreBackend
from wsgisession.stores.base import Change
from wsgisession.stores.cached_db import CachedDbStore
from wsgisession.stores.local_cache import LOCAL_COPY_TTL, LocalCache
from wsgisession.stores.sql import SqlStore

A = "a" * 64


class Clock:
    """Wall-clock time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


Workers = tuple[TestApp, TestApp, SessionMiddleware, Clock]


@pytest.fixture(params=["db", "db-postgres"])
def workers(request: pytest.FixtureRequest, engine_settings_factory: Any) -> Workers:
    """Two workers of one application, and the clock they share."""
    settings = {**engine_settings_factory(request.param), "SESSION_ENGINE": "cached_db",
                "SESSION_CACHE_URL": "memory://"}
    clock = Clock()
    middlewares = [SessionMiddleware(behaviour_app, settings, clock=clock) for _ in range(2)]
    for middleware in middlewares:
        assert isinstance(middleware.backend, StoreBackend) and isinstance(middleware.backend.store, CachedDbStore)
        middleware.backend.store.cache.clock = clock  # type: ignore[attr-defined]  # the process-local cache's
    first, second = (TestApp(middleware) for middleware in middlewares)
    return first, second, middlewares[0], clock


def share_cookie(worker: TestApp, other: TestApp) -> None:
    """Send ``other`` the cookie ``worker``'s browser holds (the load balancer picked another worker)."""
    other.set_cookie("sessionid", worker.cookies["sessionid"])


def test_a_logout_on_one_worker_is_honoured_by_the_others_once_the_bound_passed(workers: Workers) -> None:
    worker, other, _, clock = workers
    worker.get("/set", {"user": "bob"})
    share_cookie(worker, other)
    assert other.get("/").json == {"user": "bob"}  # cached by the other worker now
    worker.get("/flush")
    clock.now += LOCAL_COPY_TTL
    assert other.get("/").json == {}


def test_the_old_key_of_a_cycle_key_on_one_worker_is_refused_by_the_others(workers: Workers) -> None:
    worker, other, _, clock = workers
    worker.get("/set", {"user": "bob"})
    share_cookie(worker, other)
    assert other.get("/").json == {"user": "bob"}
    worker.get("/cycle")
    clock.now += LOCAL_COPY_TTL
    assert other.get("/").json == {}
    share_cookie(worker, other)
    assert other.get("/").json == {"user": "bob"}  # the session under its new key


def test_logging_a_user_out_everywhere_reaches_every_worker(workers: Workers) -> None:
    worker, other, middleware, clock = workers
    worker.get("/login", {"user": "bob"})
    share_cookie(worker, other)
    assert other.get("/").json == {}  # logged in, nothing else stored
    assert middleware.delete_user_sessions("bob") == 1
    clock.now += LOCAL_COPY_TTL
    assert other.get("/key").json is None


def test_a_save_on_one_worker_reaches_the_others_within_the_bound(workers: Workers) -> None:
    worker, other, _, clock = workers
    worker.get("/set", {"n": "1"})
    share_cookie(worker, other)
    assert other.get("/").json == {"n": "1"}
    worker.get("/set", {"n": "2"})
    clock.now += LOCAL_COPY_TTL
    assert other.get("/").json == {"n": "2"}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'sessions.sqlite3'}", "wsgisession_test")
    yield store
    store.close()


def test_a_local_copy_is_served_for_the_bound_then_read_from_the_database_again(db: SqlStore) -> None:
    clock = Clock()
    store = CachedDbStore(LocalCache(clock=clock), db)
    store.save(A, Change(set={"n": "1"}, replace=True, create=True, meta="{}", expires_at=time.time() + 600))
    db.delete(A)  # behind the cache's back
    assert store.load(A) is not None  # within the bound: from memory, no database read
    clock.now += LOCAL_COPY_TTL
    assert store.load(A) is None
