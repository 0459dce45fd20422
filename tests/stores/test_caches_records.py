"""The cache role (``CachesRecords``) of the stores that can front a database: versions and tombstones."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Protocol

import pytest

from tests import servers
from tests.concurrency import run_in_threads
from wsgisession.stores.base import CachesRecords, Change, Locks, Record, Store, Tombstone, Touches
from wsgisession.stores.memory import MemoryStore
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.redis_client import client_from_url

A = "a" * 64
#: Long enough for the calls of a test to run within it, short enough to wait out.
TOMBSTONE_TTL = 0.5


class CacheStore(Store, Touches, Locks, CachesRecords, Protocol):
    """What both cache stores are."""


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[CacheStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    client = client_from_url(servers.REDIS_URL)
    yield RedisStore(client, request.getfixturevalue("redis_prefix"))
    client.close()


def record(version: int, data: dict[str, str] | None = None, expires_in: float = 600) -> Record:
    data = {"v": str(version)} if data is None else data
    return Record(data, f'{{"c":{version}}}', time.time() + expires_in, version)


def test_a_miss_is_none(cache: CacheStore) -> None:
    assert cache.load_cached(A) is None


def test_a_cached_record_keeps_its_version_exactly(cache: CacheStore) -> None:
    stored = record(42, {"user": '"bob"', "": "null"})
    cache.store_record(A, stored)
    for found in (cache.load_cached(A), cache.load(A)):
        assert isinstance(found, Record)
        assert (found.data, found.meta, found.version) == (stored.data, stored.meta, 42)
        assert found.expires_at == pytest.approx(stored.expires_at, abs=0.001)


def test_an_older_or_equal_version_never_replaces_a_newer_one(cache: CacheStore) -> None:
    cache.store_record(A, record(5))
    cache.store_record(A, record(3))
    cache.store_record(A, record(5, {"other": "1"}))
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 5 and found.data == {"v": "5"}


def test_a_newer_version_replaces_the_whole_copy(cache: CacheStore) -> None:
    cache.store_record(A, record(1, {"a": "1", "b": "2"}))
    cache.store_record(A, record(2, {"c": "3"}))
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 2 and found.data == {"c": "3"}


def test_racing_fills_leave_the_newest_version(cache: CacheStore) -> None:
    versions = list(range(1, 41))
    random.shuffle(versions)

    def fill(n: int) -> None:
        for version in versions[n::4]:
            cache.store_record(A, record(version))

    run_in_threads(fill, 4)
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 40 and found.data == {"v": "40"}


def test_a_tombstone_refuses_fills_until_its_ttl_passed(cache: CacheStore) -> None:
    cache.store_record(A, record(1))
    cache.bury(A, TOMBSTONE_TTL)
    assert cache.load_cached(A) is Tombstone.GONE
    cache.store_record(A, record(9))  # a reader that fetched the record before the delete
    assert cache.load_cached(A) is Tombstone.GONE
    assert cache.load(A) is None
    time.sleep(TOMBSTONE_TTL + 0.2)
    assert cache.load_cached(A) is None
    cache.store_record(A, record(10))
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 10


def test_burying_a_record_the_cache_never_held_leaves_a_tombstone(cache: CacheStore) -> None:
    cache.bury(A, TOMBSTONE_TTL)
    cache.store_record(A, record(1))
    assert cache.load_cached(A) is Tombstone.GONE


def test_the_record_methods_see_no_record_under_a_tombstone(cache: CacheStore) -> None:
    cache.store_record(A, record(1))
    cache.bury(A, TOMBSTONE_TTL)
    assert cache.touch(A, time.time() + 600) is False
    assert cache.acquire(A, 5, 0.1) is None
    assert cache.save(A, Change(set={"x": "1"}, meta="{}", expires_at=time.time() + 600)) is False
    assert cache.load(A) is None
    assert cache.load_cached(A) is Tombstone.GONE


def test_a_record_created_after_the_burial_wins_and_delete_keeps_the_tombstone(cache: CacheStore) -> None:
    cache.bury(A, TOMBSTONE_TTL)
    assert cache.save(A, Change(set={"x": "1"}, replace=True, create=True, meta="{}", expires_at=time.time() + 600))
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.data == {"x": "1"}
    cache.delete(A)
    assert cache.load_cached(A) is Tombstone.GONE


def test_touch_keeps_the_cached_version(cache: CacheStore) -> None:
    cache.store_record(A, record(7))
    later = time.time() + 3600
    assert cache.touch(A, later) is True
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 7
    assert found.expires_at == pytest.approx(later, abs=0.001)


def test_the_cached_copy_expires_with_the_record(cache: CacheStore) -> None:
    cache.store_record(A, record(3, expires_in=0.5))
    assert isinstance(cache.load_cached(A), Record)
    time.sleep(0.7)
    assert cache.load_cached(A) is None
    cache.store_record(A, record(2))  # an expired copy does not block an older version
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 2
