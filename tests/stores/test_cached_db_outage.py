"""cached_db with its Redis cache stopped in the middle of the test: the database carries on alone.

PostgreSQL is the database (the deployment this engine is for); the cache is a redis-server
of the test's own that keeps its data across the restart, the hard case: it comes back
holding copies older than what the database got meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from webtest import TestApp

from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from tests.private_redis import PrivateRedis
from wsgisession import SessionMiddleware
from wsgisession.errors import StoreError
from wsgisession.stores.base import Change
from wsgisession.stores.cached_db import CachedDbStore
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.redis_client import client_from_url
from wsgisession.stores.sql import SqlStore

A = "a" * 64


@pytest.fixture
def store(private_redis: PrivateRedis, engine_settings_factory: Any) -> Iterator[CachedDbStore]:
    settings = engine_settings_factory("db-postgres")
    db = SqlStore(settings["SESSION_DB_URL"], settings["SESSION_DB_TABLE"])
    yield CachedDbStore(RedisStore(client_from_url(private_redis.url), "outage"), db)
    db.close()


def change(data: dict[str, str], *, new: bool = False) -> Change:
    return Change(set=data, replace=new, create=new, meta='{"c":1}', expires_at=time.time() + 600)


def data_of(store: CachedDbStore) -> dict[str, str] | None:
    record = store.load(A)
    return None if record is None else record.data


def test_reads_and_writes_go_on_through_the_database_and_nothing_is_lost(
        store: CachedDbStore, private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture) -> None:
    store.save(A, change({"n": "1"}, new=True))
    assert data_of(store) == {"n": "1"}  # cached now
    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="wsgisession"):
        for n in range(2, 6):
            assert store.save(A, change({"n": str(n)})) is True
            assert data_of(store) == {"n": str(n)}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "database alone" in warnings[0].getMessage()  # once per burst
    private_redis.start()  # the cache comes back holding {"n": "1"}
    assert data_of(store) == {"n": "5"}
    cached = store.cache.load_cached(A)
    assert cached is not None and not isinstance(cached, str) and cached.data == {"n": "5"}  # refreshed


def test_a_logout_the_cache_cannot_record_fails_visibly_and_deletes_nothing(
        store: CachedDbStore, private_redis: PrivateRedis) -> None:
    store.save(A, change({"user": '"bob"'}, new=True))
    assert data_of(store) == {"user": '"bob"'}  # cached now
    private_redis.stop()
    with pytest.raises(StoreError):
        store.delete(A)
    private_redis.start()  # with the cached copy: had the row gone, every worker would serve this copy
    assert store.db.load(A) is not None and data_of(store) == {"user": '"bob"'}  # nothing half-done
    store.delete(A)  # the user tries again
    assert data_of(store) is None and store.db.load(A) is None


def test_logging_a_user_out_everywhere_fails_visibly_while_the_cache_is_down(
        store: CachedDbStore, private_redis: PrivateRedis) -> None:
    store.save(A, Change(set={"n": "1"}, replace=True, create=True, meta='{"c":1}', expires_at=time.time() + 600,
                         user_id="bob"))
    assert data_of(store) == {"n": "1"}
    private_redis.stop()
    with pytest.raises(StoreError):
        store.delete_user_sessions("bob")
    private_redis.start()
    assert data_of(store) == {"n": "1"}
    assert store.delete_user_sessions("bob") == 1
    assert data_of(store) is None


def test_a_logout_while_the_cache_is_down_answers_503_and_no_worker_serves_it_afterwards(
        private_redis: PrivateRedis, engine_settings_factory: Any) -> None:
    settings = {**engine_settings_factory("db-postgres"), "SECRET_KEY": SECRET, "SESSION_ENGINE": "cached_db",
                "SESSION_CACHE_URL": private_redis.url}
    worker, other_worker = (TestApp(SessionMiddleware(behaviour_app, settings)) for _ in range(2))
    worker.get("/set", {"user": "bob"})
    other_worker.set_cookie("sessionid", worker.cookies["sessionid"])
    assert other_worker.get("/").json == {"user": "bob"}  # in the cache now
    private_redis.stop()
    worker.get("/flush", status=503)
    private_redis.start()  # holding the cached copy
    assert other_worker.get("/").json == {"user": "bob"}  # not logged out: the user was told and tries again
    worker.get("/flush")
    assert other_worker.get("/").json == {}


def test_the_application_keeps_answering_during_the_outage(private_redis: PrivateRedis,
                                                           engine_settings_factory: Any) -> None:
    settings = {**engine_settings_factory("db-postgres"), "SECRET_KEY": SECRET, "SESSION_ENGINE": "cached_db",
                "SESSION_CACHE_URL": private_redis.url}
    client = TestApp(SessionMiddleware(behaviour_app, settings))
    client.get("/inc")
    private_redis.stop()
    assert [client.get("/inc").json["count"] for _ in range(3)] == [2, 3, 4]
    private_redis.start()
    assert client.get("/inc").json == {"count": 5}
