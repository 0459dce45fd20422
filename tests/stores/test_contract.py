"""The store contract (wsgisession.stores.base), checked against every real store."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.concurrency import run_in_threads
from tests.conftest import STORE_IDS
from wsgisession.backends.server_side import StoreBackend
from wsgisession.engines import build_backend
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, PurgesExpired, Record, Store

A = "a" * 64
B = "b" * 64


@pytest.fixture(params=STORE_IDS)
def store(request: pytest.FixtureRequest, engine_settings_factory: Callable[[str], dict[str, Any]]) -> Store:
    backend = build_backend(Settings.from_mapping(engine_settings_factory(request.param)))
    assert isinstance(backend, StoreBackend)
    return backend.store


def create(store: Store, record_id: str, data: dict[str, str], expires_in: float = 600) -> None:
    change = Change(set=data, replace=True, create=True, meta='{"c":1}', expires_at=time.time() + expires_in)
    assert store.save(record_id, change) is True


def update(store: Store, record_id: str, set: dict[str, str] | None = None, deleted: frozenset[str] = frozenset(),
           version: int | None = None) -> bool:
    change = Change(set=set or {}, deleted=deleted, meta='{"c":2}', expires_at=time.time() + 600, version=version)
    return store.save(record_id, change)


def test_missing_record_loads_as_none(store: Store) -> None:
    assert store.load(A) is None


def test_created_record_loads_back(store: Store) -> None:
    expires_at = time.time() + 600
    store.save(A, Change(set={"user": '"bob"', "n": "1"}, replace=True, create=True, meta='{"c":5}',
                         expires_at=expires_at))
    record = store.load(A)
    assert isinstance(record, Record)
    assert record.data == {"user": '"bob"', "n": "1"}
    assert record.meta == '{"c":5}'
    assert record.expires_at == pytest.approx(expires_at, abs=0.01)


def test_update_of_missing_record_creates_nothing(store: Store) -> None:
    assert update(store, A, {"x": "1"}) is False
    assert store.load(A) is None


def test_update_sets_and_deletes_only_the_named_keys(store: Store) -> None:
    create(store, A, {"keep": "1", "change": "2", "drop": "3"})
    assert update(store, A, {"change": "20", "new": "4"}, frozenset({"drop"})) is True
    record = store.load(A)
    assert record is not None
    assert record.data == {"keep": "1", "change": "20", "new": "4"}
    assert record.meta == '{"c":2}'


def test_updates_from_the_same_load_keep_each_others_keys(store: Store) -> None:
    create(store, A, {"base": "0"})
    loaded = store.load(A)
    assert loaded is not None
    assert update(store, A, {"first": "1"}, version=loaded.version)
    assert update(store, A, {"second": "2"}, version=loaded.version)  # a stale version: must still merge
    record = store.load(A)
    assert record is not None
    assert record.data == {"base": "0", "first": "1", "second": "2"}


def test_replace_drops_keys_not_in_the_change(store: Store) -> None:
    create(store, A, {"old": "1"})
    create(store, A, {"new": "2"})
    record = store.load(A)
    assert record is not None
    assert record.data == {"new": "2"}


def test_delete_removes_the_record_and_tolerates_missing_ones(store: Store) -> None:
    create(store, A, {"x": "1"})
    store.delete(A)
    store.delete(A)
    assert store.load(A) is None
    assert update(store, A, {"x": "2"}) is False


def test_records_are_kept_apart(store: Store) -> None:
    create(store, A, {"who": '"alice"'})
    create(store, B, {"who": '"bob"'})
    store.delete(A)
    record = store.load(B)
    assert record is not None
    assert record.data == {"who": '"bob"'}


def test_unicode_and_large_values_round_trip(store: Store) -> None:
    big = '"' + "x" * 100_000 + '"'
    create(store, A, {"naïve ключ 🔑": '"värde ✓"', "big": big, "": "null"})
    record = store.load(A)
    assert record is not None
    assert record.data == {"naïve ключ 🔑": '"värde ✓"', "big": big, "": "null"}


def test_concurrent_updates_of_different_keys_all_land(store: Store) -> None:
    create(store, A, {})

    def writer(n: int) -> None:
        for i in range(5):
            assert update(store, A, {f"t{n}-{i}": str(i)})

    run_in_threads(writer, 8)
    record = store.load(A)
    assert record is not None
    assert set(record.data) == {f"t{n}-{i}" for n in range(8) for i in range(5)}


def test_expired_records_are_dropped_or_reported_expired(store: Store) -> None:
    create(store, A, {"x": "1"}, expires_in=1)
    time.sleep(1.3)
    record = store.load(A)
    assert record is None or record.expires_at <= time.time()


def test_clear_expired_removes_only_dead_records(store: Store) -> None:
    if not isinstance(store, PurgesExpired):
        assert type(store).__name__ in ("RedisStore", "MemcachedStore"), (
            "only stores with native expiry may skip purging")
        return
    create(store, A, {"x": "1"}, expires_in=-10)
    create(store, B, {"y": "2"}, expires_in=600)
    assert store.clear_expired(time.time()) == 1
    assert store.load(A) is None
    assert store.load(B) is not None
