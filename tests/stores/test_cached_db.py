"""What the contract suite does not check about cached_db: which layer reads, which layers writes reach.

The cache is Redis (the deployment cached_db is meant for) and the database a SQLite file;
a few tests use the memory cache where its own behaviour is the point.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import servers
from wsgisession.backends.server_side import StoreBackend
from wsgisession.engines import build_backend
from wsgisession.errors import ConfigurationError
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, Record
from wsgisession.stores.cache import open_cache
from wsgisession.stores.cached_db import CachedDbStore
from wsgisession.stores.memory import MemoryStore
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.redis_client import client_from_url
from wsgisession.stores.sql import SqlStore

A = "a" * 64


@pytest.fixture
def cache(redis_prefix: str) -> RedisStore:
    return RedisStore(client_from_url(servers.REDIS_URL), redis_prefix)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'sessions.sqlite3'}", "wsgisession_test")
    yield store
    store.close()


@pytest.fixture
def store(cache: RedisStore, db: SqlStore) -> CachedDbStore:
    return CachedDbStore(cache, db)


def whole(data: dict[str, str], expires_in: float = 600) -> Change:
    return Change(set=data, replace=True, create=True, meta='{"c":1}', expires_at=time.time() + expires_in)


def partial(set: dict[str, str], loaded: Record | None = None) -> Change:
    return Change(set=set, meta='{"c":2}', expires_at=time.time() + 600,
                  base=loaded.data if loaded else None, version=loaded.version if loaded else None)


def data_of(record: Record | None) -> dict[str, str] | None:
    return None if record is None else record.data


def test_a_session_missing_from_the_cache_is_read_from_the_database_and_cached_again(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"user": '"bob"'}))
    cache.delete(A)  # evicted, or Redis restarted without persistence
    assert data_of(store.load(A)) == {"user": '"bob"'}
    cached = cache.load(A)
    assert data_of(cached) == {"user": '"bob"'}
    assert cached is not None and cached.expires_at == pytest.approx(time.time() + 600, abs=5)


def test_a_save_reaches_the_cache_and_the_database(store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"user": '"bob"', "cart": "[]"}))
    assert store.save(A, partial({"cart": "[1]"}, store.load(A))) is True
    assert data_of(cache.load(A)) == data_of(db.load(A)) == {"user": '"bob"', "cart": "[1]"}


def test_delete_removes_the_session_from_both(store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"user": '"bob"'}))
    store.delete(A)
    assert cache.load(A) is None
    assert db.load(A) is None
    assert store.load(A) is None


def test_reads_come_from_the_cache_so_database_only_changes_are_not_seen(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    # Documented: the cache is the read path; a change made to the database alone shows
    # only once the cache entry is gone.
    store.save(A, whole({"plan": '"free"'}))
    db.save(A, partial({"plan": '"pro"'}))
    assert data_of(store.load(A)) == {"plan": '"free"'}
    cache.delete(A)
    assert data_of(store.load(A)) == {"plan": '"pro"'}


def test_a_save_caches_the_whole_record_as_the_database_holds_it(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"user": '"bob"', "theme": '"dark"'}))
    cache.delete(A)
    assert store.save(A, partial({"theme": '"light"'})) is True
    cached, stored = cache.load_cached(A), db.load(A)
    assert isinstance(cached, Record) and stored is not None
    assert cached.data == stored.data == {"user": '"bob"', "theme": '"light"'}
    assert cached.version == stored.version


def test_a_save_of_a_session_deleted_from_the_database_drops_the_cached_copy(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"user": '"bob"'}))
    db.delete(A)  # logged out through a path that reached the database only
    assert store.save(A, partial({"cart": "[]"})) is False
    assert cache.load(A) is None
    assert store.load(A) is None


def test_a_reader_cannot_put_back_a_session_a_logout_deleted(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"user": '"bob"'}))
    cache.delete(A)
    fetched = db.load(A)  # a slow request missed the cache and read the database...
    assert fetched is not None
    store.delete(A)  # ...a logout in another tab deleted the session...
    cache.store_record(A, fetched)  # ...then the slow request fills the cache
    assert store.load(A) is None


def test_a_reader_cannot_put_back_an_older_copy_than_a_save_cached(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"n": "1"}))
    cache.delete(A)
    fetched = db.load(A)  # a slow request read version 1...
    assert fetched is not None
    assert store.save(A, partial({"n": "2"})) is True  # ...another saved version 2 (and cached it)...
    cache.store_record(A, fetched)  # ...then the slow request fills the cache with version 1
    assert data_of(store.load(A)) == {"n": "2"}


def test_a_cache_hit_hands_the_database_version_to_the_next_save(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"user": '"bob"'}))
    db.save(A, partial({"csrf": '"t0k3n"'}))  # a save the cache did not see (written behind its back)
    stale = store.load(A)
    assert stale is not None and data_of(stale) == {"user": '"bob"'}
    assert store.save(A, partial({"cart": "[1]"}, stale)) is True  # the guarded write notices and merges
    assert data_of(db.load(A)) == {"user": '"bob"', "csrf": '"t0k3n"', "cart": "[1]"}


def test_a_record_read_from_the_database_keeps_the_database_version(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    store.save(A, whole({"n": "1"}))
    store.save(A, partial({"n": "2"}))
    cache.delete(A)
    from_db = store.load(A)
    assert from_db is not None and from_db == db.load(A)
    assert store.save(A, partial({"n": "3"}, from_db)) is True
    assert data_of(store.load(A)) == data_of(db.load(A)) == {"n": "3"}


def test_an_expired_database_record_is_not_put_in_the_cache(
        store: CachedDbStore, cache: RedisStore, db: SqlStore) -> None:
    db.save(A, whole({"user": '"bob"'}, expires_in=-10))
    record = store.load(A)
    assert record is None or record.expires_at < time.time()
    assert cache.load(A) is None


def test_clear_expired_counts_database_rows_and_sweeps_a_memory_cache(db: SqlStore) -> None:
    cache = MemoryStore()
    store = CachedDbStore(cache, db)
    store.save(A, whole({"x": "1"}, expires_in=-10))
    store.save("b" * 64, whole({"y": "2"}))
    assert store.clear_expired(time.time()) == 1
    assert cache.load(A) is None and db.load(A) is None
    assert data_of(store.load("b" * 64)) == {"y": "2"}


def test_the_cached_db_engine_writes_through_to_redis_and_sql(
        engine_settings_factory: Callable[[str], dict[str, Any]]) -> None:
    settings = Settings.from_mapping(engine_settings_factory("cached_db"))
    backend = build_backend(settings)
    assert isinstance(backend, StoreBackend) and isinstance(backend.store, CachedDbStore)
    store = backend.store
    assert isinstance(store.cache, RedisStore) and store.cache.prefix == settings.redis_prefix
    assert isinstance(store.db, SqlStore)
    store.save(A, whole({"user": '"bob"'}))
    assert store.cache.client.exists(store.cache.key(A)) == 1
    assert data_of(store.db.load(A)) == {"user": '"bob"'}
    store.db.close()


def test_open_cache_picks_the_store_by_url_scheme(redis_prefix: str) -> None:
    assert isinstance(open_cache(Settings(cache_url="memory://")), MemoryStore)
    on_redis = open_cache(Settings(cache_url=servers.REDIS_URL, redis_prefix=redis_prefix))
    assert isinstance(on_redis, RedisStore) and on_redis.prefix == redis_prefix
    with pytest.raises(ConfigurationError, match="SESSION_CACHE_URL") as caught:
        open_cache(Settings(cache_url="couchbase://127.0.0.1:11210"))
    assert isinstance(caught.value, ValueError)
