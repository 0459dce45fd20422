"""cached_db's per-process cache (``memory://``): versions, tombstones, and copies trusted only briefly."""

from __future__ import annotations

import time

from tests.concurrency import run_in_threads
from wsgisession.stores.base import Record, Tombstone
from wsgisession.stores.local_cache import LOCAL_COPY_TTL, SWEEP_EVERY, LocalCache

A = "a" * 64


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(version: int, data: dict[str, str] | None = None) -> Record:
    return Record({"v": str(version)} if data is None else data, "{}", time.time() + 600, version)


def test_a_copy_is_served_until_the_bound_and_trusted_again_when_the_database_confirms_it() -> None:
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.store_record(A, record(3))
    clock.now += LOCAL_COPY_TTL - 0.1
    assert isinstance(cache.load_cached(A), Record)
    clock.now += 0.1
    assert cache.load_cached(A) is None  # the caller reads the database
    cache.store_record(A, record(3, {"other": "1"}))  # what the database holds: the same version
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.data == {"v": "3"}


def test_an_older_version_never_replaces_a_newer_one_and_a_newer_one_replaces_it() -> None:
    cache = LocalCache(clock=Clock())
    cache.store_record(A, record(5))
    cache.store_record(A, record(3))
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 5
    cache.store_record(A, record(6, {"c": "3"}))
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.data == {"c": "3"}


def test_racing_fills_leave_the_newest_version() -> None:
    cache = LocalCache(clock=Clock())

    def fill(n: int) -> None:
        for version in range(1 + n, 41, 4):
            cache.store_record(A, record(version))

    run_in_threads(fill, 4)
    found = cache.load_cached(A)
    assert isinstance(found, Record) and found.version == 40


def test_a_tombstone_refuses_fills_until_its_ttl_passed() -> None:
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.store_record(A, record(1))
    cache.bury(A, 60)
    cache.store_record(A, record(9))  # a reader that fetched the record before the delete
    assert cache.load_cached(A) is Tombstone.GONE
    assert cache.touch(A, time.time() + 600) is False
    clock.now += 60
    assert cache.load_cached(A) is None
    cache.store_record(A, record(10))
    assert isinstance(cache.load_cached(A), Record)


def test_copies_no_longer_trusted_are_swept() -> None:
    clock = Clock()
    cache = LocalCache(clock=clock)
    for n in range(SWEEP_EVERY - 1):
        cache.store_record(f"{n:064x}", record(1))
    clock.now += LOCAL_COPY_TTL
    cache.store_record(A, record(1))  # the SWEEP_EVERY-th fill
    assert [key for key in (f"{n:064x}" for n in range(SWEEP_EVERY - 1)) if key in cache._copies] == []
    assert isinstance(cache.load_cached(A), Record)
