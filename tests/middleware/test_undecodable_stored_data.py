"""Stored bytes that are not UTF-8 are corrupted data (SPEC 4): logged, read as an empty session, never a 500.

Each engine that can hold such bytes gets them planted behind its back, where it keeps
the session's data: a Redis hash field, a memcached value, a session file, a SQLite text
column, a cached_db cache entry. (PostgreSQL refuses invalid UTF-8 in a text column, and
MariaDB too in strict mode, storing ``?`` for it otherwise; the memory cache holds Python
strings: those cannot hold such bytes.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware, _lifecycle
from wsgisession.backends.server_side import StoreBackend
from wsgisession.signing import SessionIdSigner
from wsgisession.stores.base import Store
from wsgisession.stores.cached_db import CachedDbStore
from wsgisession.stores.file import FileStore
from wsgisession.stores.memcached import MemcachedStore
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.sql import SqlStore

#: A pickle's first bytes: what a store shared with an old pickling app may hold.
UNDECODABLE = b"\x80\x04\x95"


def _plant_in_redis(store: RedisStore, record_id: str) -> None:
    key = store.key(record_id)
    assert store.client.exists(key) == 1
    store.client.hset(key, "k:planted", UNDECODABLE)


def _plant_in_memcached(store: MemcachedStore, record_id: str) -> None:
    key = store.key(record_id)
    value: bytes = store.client.get(key)
    assert value is not None
    store.client.set(key, value.replace(b'"d":{', b'"d":{"planted":"' + UNDECODABLE + b'",', 1))


def _plant_in_file(store: FileStore, record_id: str) -> None:
    path = Path(store.folder) / f"wsgisession-{record_id}"
    content = path.read_bytes()
    assert b'"d":{' in content
    path.write_bytes(content.replace(b'"d":{', b'"d":{"planted":"' + UNDECODABLE + b'",', 1))


def _plant_in_sqlite(store: SqlStore, record_id: str) -> None:
    engine = sa.create_engine(store.url)
    with engine.begin() as connection:  # SQLite keeps a blob cast to text as the bytes it is given
        updated = connection.execute(sa.text(f"UPDATE {store.table.name} SET session_data = "
                                             f"CAST(X'{UNDECODABLE.hex()}' AS TEXT) WHERE session_key = :key"),
                                     {"key": record_id})
        assert updated.rowcount == 1
    engine.dispose()


def plant(store: Store, record_id: str) -> None:
    """Put undecodable bytes where ``store`` keeps ``record_id``'s data (the cache, for cached_db)."""
    if isinstance(store, CachedDbStore):
        store = store.cache
    planters: dict[type[Any], Callable[[Any, str], None]] = {
        RedisStore: _plant_in_redis, MemcachedStore: _plant_in_memcached, FileStore: _plant_in_file,
        SqlStore: _plant_in_sqlite}
    planters[type(store)](store, record_id)


def planted_client(engine_settings: dict[str, Any]) -> tuple[SessionMiddleware, TestApp]:
    """A client whose session ``{"user": "alice"}`` then got undecodable bytes planted in its store."""
    middleware = SessionMiddleware(behaviour_app, engine_settings)
    backend = middleware.backend
    assert isinstance(backend, StoreBackend)
    client = TestApp(middleware)
    client.get("/set?user=alice")
    unsigned = SessionIdSigner(engine_settings["SECRET_KEY"]).unsign(client.cookies["sessionid"])
    assert unsigned is not None
    plant(backend.store, _lifecycle.record_id(unsigned[0]))
    return middleware, client


@pytest.mark.parametrize("engine_id", ["redis", "redis-cluster", "redis-sentinel", "cache-redis",
                                       "cache-memcached", "file", "db"])
def test_undecodable_stored_bytes_give_an_empty_session(engine_settings: dict[str, Any],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    middleware, client = planted_client(engine_settings)
    caplog.set_level(logging.WARNING, logger="wsgisession")

    response = client.get("/get")

    assert response.status_int == 200 and response.json == {}
    assert any("could not be decoded" in record.getMessage() for record in caplog.records)
    assert "\ufffd" not in caplog.text and "alice" not in caplog.text  # no driver message quoting the data
    assert middleware.event_counts().undecodable == 1
    client.get("/set?user=bob")  # a new session takes its place
    assert client.get("/get").json == {"user": "bob"}


@pytest.mark.parametrize("engine_id", ["cached_db"])
def test_an_undecodable_cache_entry_is_a_miss_and_the_database_answers(engine_settings: dict[str, Any]) -> None:
    middleware, client = planted_client(engine_settings)
    response = client.get("/get")
    assert response.status_int == 200 and response.json == {"user": "alice"}
    assert middleware.event_counts().undecodable == 0
