"""The memcached store: the shared store suites run on it, then what they do not check (layout, expiry, failures)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.concurrency import run_in_threads
from tests.memcached_server import memcached_items

# The shared suites, collected here once more with the `store` and `cache` fixtures below.
from tests.stores.test_caches_records import *  # noqa: F403
from tests.stores.test_capabilities import *  # noqa: F403
from tests.stores.test_contract import *  # noqa: F403
from tests.stores.test_contract import A, B, create
from wsgisession.backends.server_side import StoreBackend
from wsgisession.engines import build_backend
from wsgisession.errors import ConfigurationError, LockLostError, StoreError
from wsgisession.settings import Settings
from wsgisession.stores.base import CachesRecords, Change, CorruptRecord, Locks, PurgesExpired, Record, Touches
from wsgisession.stores.cached_db import CachedDbStore
from wsgisession.stores.memcached import MAX_RELATIVE_EXPIRY, MemcachedStore, client_from_url, exptime

SECRET = "test-secret-key-0123456789abcdef"
#: Nothing listens on port 1 of the loopback interface.
DEAD_URL = "memcached://127.0.0.1:1"
DAY = 24 * 3600


def _store(url: str) -> Iterator[MemcachedStore]:
    client = client_from_url(url)
    yield MemcachedStore(client, f"wsgisession-test-{uuid.uuid4().hex[:12]}")
    client.close()


@pytest.fixture  # type: ignore[no-redef]
def store(memcached_url: str) -> Iterator[MemcachedStore]:
    """A store under a key prefix of this test's own (memcached expires the keys; the server is ours)."""
    yield from _store(memcached_url)


@pytest.fixture  # type: ignore[no-redef]
def cache(memcached_url: str) -> Iterator[MemcachedStore]:
    """The same store, for the cache-role suite."""
    yield from _store(memcached_url)


def test_clear_expired_removes_only_dead_records(store: MemcachedStore) -> None:  # type: ignore[no-redef]
    """Memcached's answer to the contract's purge test: no purge, it drops expired items itself."""
    assert not isinstance(store, PurgesExpired)
    create(store, A, {"x": "1"}, expires_in=-10)
    assert store.client.get(store.key(A)) is None


def test_the_store_has_every_optional_capability_of_a_cache(store: MemcachedStore) -> None:
    assert isinstance(store, Touches) and isinstance(store, Locks) and isinstance(store, CachesRecords)


# --- expiry ---------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "expected"), [
    (0.2, 2), (1, 2), (599.5, 601), (MAX_RELATIVE_EXPIRY - 1, MAX_RELATIVE_EXPIRY),
])
def test_expiry_up_to_30_days_is_relative_rounded_up_with_a_tick_to_spare(seconds: float, expected: int) -> None:
    assert exptime(1_000_000.0 + seconds, 1_000_000.0) == expected


def test_expiry_beyond_30_days_is_an_absolute_unix_time() -> None:
    now = 1_700_000_000.25
    assert exptime(now + MAX_RELATIVE_EXPIRY, now) == 1_700_000_000 + MAX_RELATIVE_EXPIRY + 1
    assert exptime(now + 40 * DAY, now) == 1_700_000_000 + 40 * DAY + 1


def test_a_deadline_already_past_expires_at_once_not_never() -> None:
    assert exptime(99.0, 100.0) == -1  # 0 would mean "never expires"
    assert exptime(100.0, 100.0) == -1


@pytest.mark.parametrize("days", [29, 31, 40, 365])
def test_records_expiring_in_months_are_kept_by_the_server(store: MemcachedStore, days: int) -> None:
    create(store, A, {"x": "1"}, expires_in=days * DAY)
    record = store.load(A)
    assert record is not None and record.data == {"x": "1"}
    assert store.touch(A, time.time() + days * DAY + 60)
    assert store.load(A) is not None


def test_a_record_saved_already_expired_leaves_no_item(store: MemcachedStore) -> None:
    create(store, A, {"x": "1"}, expires_in=-5)
    assert store.load(A) is None


# --- layout and values ----------------------------------------------------------------


def test_a_record_is_one_json_value_under_prefix_and_record_id(store: MemcachedStore) -> None:
    expires_at = time.time() + 600
    assert store.save(A, Change(set={"user": '"bob"'}, replace=True, create=True, meta='{"c":1}',
                                expires_at=expires_at))
    assert store.key(A) == f"{store.prefix}:{A}"
    value = json.loads(store.client.get(store.key(A)))
    assert value == {"m": '{"c":1}', "e": expires_at, "v": 1, "d": {"user": '"bob"'}}


def test_the_items_of_a_store_can_be_listed_for_inspection(store: MemcachedStore, memcached_url: str) -> None:
    create(store, A, {"x": "1"})
    token = store.acquire(A, 10, 0.1)
    assert set(memcached_items(memcached_url, store.prefix)) == {store.key(A), store.lock_key(A)}
    assert memcached_items(memcached_url, store.prefix)[store.key(A)] == store.client.get(store.key(A))
    assert token is not None


def test_every_save_bumps_the_version_and_touch_keeps_it(store: MemcachedStore) -> None:
    create(store, A, {"n": "0"})
    assert store.save(A, Change(set={"n": "1"}, meta="{}", expires_at=time.time() + 600))
    assert store.touch(A, time.time() + 900)
    record = store.load(A)
    assert record is not None and record.version == 2 and record.data == {"n": "1"}


def test_a_100_kb_value_round_trips(store: MemcachedStore) -> None:
    big = json.dumps("é✓" + "x" * 100 * 1024)
    create(store, A, {"big": big, "small": "1"})
    record = store.load(A)
    assert record is not None and record.data == {"big": big, "small": "1"}


def test_a_value_too_large_for_memcached_is_a_store_error(store: MemcachedStore) -> None:
    with pytest.raises(StoreError) as caught:
        create(store, A, {"huge": "x" * 2 * 1024 * 1024})
    assert (caught.value.store, caught.value.operation) == ("memcached", "save")
    assert "xxxx" not in str(caught.value)


def test_concurrent_saves_of_one_record_from_8_threads_all_land(store: MemcachedStore) -> None:
    create(store, A, {})

    def writer(n: int) -> None:
        for i in range(25):
            assert store.save(A, Change(set={f"t{n}-{i}": str(i)}, meta="{}", expires_at=time.time() + 600))

    run_in_threads(writer, 8)
    record = store.load(A)
    assert record is not None
    assert set(record.data) == {f"t{n}-{i}" for n in range(8) for i in range(25)}
    assert record.version == 1 + 8 * 25


def test_concurrent_creates_merge_instead_of_overwriting(store: MemcachedStore) -> None:
    def writer(n: int) -> None:
        assert store.save(A, Change(set={f"k{n}": "1"}, create=True, meta="{}", expires_at=time.time() + 600))

    run_in_threads(writer, 8)
    record = store.load(A)
    assert record is not None and set(record.data) == {f"k{n}" for n in range(8)}


@pytest.mark.parametrize("garbage", [b"not json", b"[1, 2]", b'{"d": {}}', b'{"m": "", "e": 1, "v": 1, "d": {"k": 5}}'])
def test_a_value_the_store_did_not_write_is_corrupt_and_replaceable(store: MemcachedStore, garbage: bytes) -> None:
    store.client.set(store.key(A), garbage, expire=60)
    with pytest.raises(CorruptRecord):
        store.load(A)
    with pytest.raises(CorruptRecord):
        store.load_cached(A)
    assert store.touch(A, time.time() + 60) is False
    assert store.acquire(A, 5, 0.1) is None
    create(store, A, {"fresh": "1"})
    record = store.load(A)
    assert record is not None and record.data == {"fresh": "1"}
    store.client.set(store.key(A), garbage, expire=60)
    store.delete(A)
    assert store.client.get(store.key(A)) is None


# --- locks ----------------------------------------------------------------------------


def test_the_lock_is_a_key_beside_the_record_holding_token_and_deadline(store: MemcachedStore) -> None:
    create(store, A, {})
    token = store.acquire(A, 10, 0.1)
    assert token is not None and store.lock_key(A) == f"{store.prefix}:{A}:lock"
    held, until = store.client.get(store.lock_key(A)).decode().split(" ")
    assert held == token and float(until) == pytest.approx(time.time() + 10, abs=1)
    store.release(A, token)
    assert store.client.get(store.lock_key(A)) is None


def test_a_save_under_a_lock_another_token_holds_writes_nothing(store: MemcachedStore) -> None:
    create(store, A, {"n": "0"})
    holder = store.acquire(A, 10, 0.1)
    assert holder is not None
    with pytest.raises(LockLostError):
        store.save(A, Change(set={"n": "9"}, meta="{}", expires_at=time.time() + 600, lock_token="f" * 32))
    store.release(A, holder)
    with pytest.raises(LockLostError):  # nobody holds it now: a token is still no licence
        store.save(A, Change(set={"n": "9"}, meta="{}", expires_at=time.time() + 600, lock_token=holder))
    record = store.load(A)
    assert record is not None and record.data == {"n": "0"}


# --- failures -------------------------------------------------------------------------


@pytest.mark.parametrize(("operation", "call"), [
    ("load", lambda s: s.load(A)),
    ("save", lambda s: create(s, A, {"secret": '"hunter2"'})),
    ("delete", lambda s: s.delete(A)),
    ("touch", lambda s: s.touch(A, time.time() + 60)),
    ("lock the session", lambda s: s.acquire(A, 5, 1)),
    ("release the lock", lambda s: s.release(A, "f" * 32)),
    ("load", lambda s: s.load_cached(A)),
    ("cache the session", lambda s: s.store_record(A, Record({"secret": '"hunter2"'}, "{}", time.time() + 60, 3))),
    ("bury the session", lambda s: s.bury(A, 60)),
], ids=["load", "save", "delete", "touch", "acquire", "release", "load_cached", "store_record", "bury"])
def test_an_unreachable_server_is_a_quick_store_error_without_data(operation: str, call: Any) -> None:
    client = client_from_url(DEAD_URL)
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        call(MemcachedStore(client, "wsgisession-test"))
    assert time.monotonic() - started < 2
    assert (caught.value.store, caught.value.operation) == ("memcached", operation)
    assert isinstance(caught.value.__cause__, OSError)
    assert "hunter2" not in str(caught.value)


# --- settings and engines -------------------------------------------------------------


@pytest.mark.parametrize("url", ["memcached://", "memcached://host:99999", "memcached://host:11211/0",
                                 "memcached://user:pw@host:11211", "memcached://host?timeout=1", "redis://host"])
def test_a_url_that_is_not_memcached_host_port_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="SESSION_CACHE_URL") as caught:
        client_from_url(url)
    assert "pw" not in str(caught.value)


def test_a_url_without_a_port_uses_11211() -> None:
    assert client_from_url("memcached://127.0.0.1").server == ("127.0.0.1", 11211)


@pytest.mark.parametrize("prefix", ["with space", "tab\there", "ключ", "p" * 181])
def test_a_prefix_memcached_cannot_key_is_a_configuration_error(prefix: str) -> None:
    settings = Settings(secret_key=SECRET, engine="cache", cache_url="memcached://127.0.0.1:11211",
                        redis_prefix=prefix)
    with pytest.raises(ConfigurationError, match="SESSION_REDIS_PREFIX"):
        MemcachedStore.from_settings(settings)


def test_the_cache_engine_opens_memcached_from_the_cache_url(memcached_url: str) -> None:
    settings = Settings.from_mapping({"SECRET_KEY": SECRET, "SESSION_ENGINE": "cache",
                                      "SESSION_CACHE_URL": memcached_url, "SESSION_REDIS_PREFIX": "wsgisession-t"})
    backend = build_backend(settings)
    assert isinstance(backend, StoreBackend) and isinstance(backend.store, MemcachedStore)
    assert backend.store.prefix == "wsgisession-t"


def test_cached_db_can_use_memcached_as_its_cache(memcached_url: str, tmp_path: Path) -> None:
    settings = Settings.from_mapping({
        "SECRET_KEY": SECRET, "SESSION_ENGINE": "cached_db", "SESSION_CACHE_URL": memcached_url,
        "SESSION_REDIS_PREFIX": f"wsgisession-test-{uuid.uuid4().hex[:12]}",
        "SESSION_DB_URL": f"sqlite:///{tmp_path / 'sessions.sqlite3'}"})
    backend = build_backend(settings)
    assert isinstance(backend, StoreBackend) and isinstance(backend.store, CachedDbStore)
    store = backend.store
    create(store, B, {"x": "1"})
    cached = store.cache.load_cached(B)
    assert isinstance(cached, Record) and cached.data == {"x": "1"}
    store.delete(B)
    assert store.load(B) is None and store.cache.load(B) is None


def test_a_memory_cache_never_imports_pymemcache() -> None:
    code = ("import sys; from wsgisession.settings import Settings; from wsgisession.stores.cache import open_cache;"
            " open_cache(Settings(secret_key='x' * 16)); assert 'pymemcache' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
