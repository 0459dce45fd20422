"""The optional store capabilities every built-in store has: touch (renew expiry), retire, and session locks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.concurrency import run_in_threads
from tests.conftest import STORE_IDS
from tests.stores.test_contract import A, B, create
from wsgisession.backends.server_side import StoreBackend
from wsgisession.engines import build_backend
from wsgisession.errors import LockLostError, LockTimeoutError
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, Locks, Retires, Store, Touches


@pytest.fixture(params=STORE_IDS)
def store(request: pytest.FixtureRequest, engine_settings_factory: Callable[[str], dict[str, Any]]) -> Store:
    backend = build_backend(Settings.from_mapping(engine_settings_factory(request.param)))
    assert isinstance(backend, StoreBackend)
    assert isinstance(backend.store, Touches) and isinstance(backend.store, Locks)
    assert isinstance(backend.store, Retires)
    return backend.store


def counter_change(value: int, token: str | None) -> Change:
    return Change(set={"n": str(value)}, meta='{"c":1}', expires_at=time.time() + 600, lock_token=token)


def test_touch_moves_the_expiry_and_keeps_the_data(store: Any) -> None:
    create(store, A, {"x": "1"}, expires_in=60)
    later = time.time() + 3600
    assert store.touch(A, later) is True
    record = store.load(A)
    assert record is not None and record.data == {"x": "1"} and record.meta == '{"c":1}'
    assert record.expires_at == pytest.approx(later, abs=0.01)


def test_touch_of_a_missing_record_creates_nothing(store: Any) -> None:
    assert store.touch(A, time.time() + 60) is False
    assert store.load(A) is None


def test_retire_deletes_and_tells_whether_the_record_was_there(store: Any) -> None:
    create(store, A, {"x": "1"})
    assert store.retire(A) is True
    assert store.load(A) is None
    assert store.retire(A) is False  # a logout got there first
    assert store.retire(B) is False


def test_a_missing_record_has_no_lock(store: Any) -> None:
    assert store.acquire(A, 5, 0.1) is None


def test_a_held_lock_makes_others_wait_and_then_time_out(store: Any) -> None:
    create(store, A, {"x": "1"})
    token = store.acquire(A, 10, 0.5)
    assert isinstance(token, str) and token
    started = time.monotonic()
    with pytest.raises(LockTimeoutError, match=r"more than 0\.3 s"):
        store.acquire(A, 10, 0.3)
    assert time.monotonic() - started >= 0.25
    store.release(A, token)
    second = store.acquire(A, 10, 0.1)
    assert second is not None and second != token
    store.release(A, second)


def test_locks_of_different_records_are_independent(store: Any) -> None:
    create(store, A, {})
    create(store, B, {})
    token_a = store.acquire(A, 10, 0.1)
    token_b = store.acquire(B, 10, 0.1)
    assert token_a and token_b
    store.release(A, token_a)
    store.release(B, token_b)


def test_a_crashed_holder_lock_ends_with_its_lease(store: Any) -> None:
    create(store, A, {"n": "0"})
    stale = store.acquire(A, 0.3, 0.1)  # the holder "crashes": never releases
    started = time.monotonic()
    fresh = store.acquire(A, 10, 3)
    assert fresh is not None and 0.1 <= time.monotonic() - started < 3
    with pytest.raises(LockLostError):
        store.save(A, counter_change(99, stale))  # fencing: the stale holder cannot write
    store.release(A, stale)  # a stale release does not free the new holder's lock
    with pytest.raises(LockTimeoutError):
        store.acquire(A, 10, 0.2)
    assert store.save(A, counter_change(1, fresh)) is True
    store.release(A, fresh)
    record = store.load(A)
    assert record is not None and record.data == {"n": "1"}


def test_locked_read_modify_write_cycles_are_exact(store: Any) -> None:
    create(store, A, {"n": "0"})

    def increment(_: int) -> None:
        for _ in range(5):
            token = store.acquire(A, 10, 10)
            assert token is not None
            try:
                record = store.load(A)
                assert record is not None
                store.save(A, counter_change(int(record.data["n"]) + 1, token))
            finally:
                store.release(A, token)

    run_in_threads(increment, 6)
    record = store.load(A)
    assert record is not None and record.data["n"] == "30"
