"""What the contract suite does not check about the redis engine: layout, TTLs, round trips, failures."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from redis.crc import key_slot

from tests import servers
from wsgisession import _lifecycle
from wsgisession.backends import Loaded
from wsgisession.backends.contract import Pending
from wsgisession.backends.server_side import StoreBackend
from wsgisession.errors import ConfigurationError, LockLostError, StoreError
from wsgisession.settings import Settings
from wsgisession.signing import SessionIdSigner
from wsgisession.stores.base import Change, CorruptRecord, Record
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.redis_client import client_from_url

A = "a" * 64
#: Nothing listens on port 1 of the loopback interface.
DEAD_URL = "redis://127.0.0.1:1/0"


class CountingRedis(redis.Redis):  # type: ignore[type-arg,unused-ignore]
    """The real client, recording the name of every command it sends."""

    commands: list[str]

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]).upper())
        return super().execute_command(*args, **options)


@pytest.fixture
def client() -> Iterator[CountingRedis]:
    """A client with redis-py's defaults (bytes replies), as an application may hand the store its own."""
    counting = CountingRedis.from_url(servers.REDIS_URL)
    counting.commands = []
    yield counting
    counting.connection_pool.disconnect()


@pytest.fixture
def store(client: CountingRedis, redis_prefix: str) -> RedisStore:
    return RedisStore(client, redis_prefix)


def create(store: RedisStore, record_id: str, data: dict[str, str], expires_at: float | None = None) -> None:
    expires_at = time.time() + 600 if expires_at is None else expires_at
    assert store.save(record_id, Change(set=data, replace=True, create=True, meta='{"c":1}', expires_at=expires_at))


def test_the_redis_key_expires_with_the_session(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"x": "1"}, expires_at=time.time() + 600)
    assert client.pttl(store.key(A)) == pytest.approx(600_000, abs=2_000)
    store.save(A, Change(set={"x": "2"}, meta='{"c":1}', expires_at=time.time() + 1200))
    assert client.pttl(store.key(A)) == pytest.approx(1_200_000, abs=2_000)


def test_a_session_saved_already_expired_leaves_no_key(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"x": "1"}, expires_at=time.time() - 5)
    assert client.exists(store.key(A)) == 0
    assert store.load(A) is None


def test_redis_holds_the_session_under_a_hash_of_its_key(store: RedisStore, client: CountingRedis,
                                                         redis_prefix: str) -> None:
    key = _lifecycle.new_session_key()
    now = time.time()
    pending = Pending(key=key, is_new=True, changed={"user": '"bob"'}, deleted=frozenset(), expiry=None,
                      created_at=now, expires_at=now + 600, cookie_max_age=600, loaded=None, version=None,
                      retired_key=None, lock_token=None, user_id=None, user_changed=False, reusable_cookie=None,
                      all_data=lambda: {"user": '"bob"'})
    backend = StoreBackend(store, SessionIdSigner("unit-test-secret-key-0123456789abcdef"))
    cookie_value = backend.save(pending)
    assert cookie_value is not None and cookie_value.startswith(f"{key}.")
    names = [name.decode() for name in client.scan_iter(match=f"{redis_prefix}*")]
    assert names == [f"{redis_prefix}:{{{_lifecycle.record_id(key)}}}"]
    stored = client.hgetall(names[0])
    assert key.encode() not in b" ".join([*stored, *stored.values()])
    loaded = backend.load(cookie_value, time.time())
    assert isinstance(loaded, Loaded) and loaded.data == {"user": '"bob"'}


def test_load_save_and_delete_are_one_command_each(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"x": "1"})  # the first save may also load the script into Redis
    client.commands.clear()
    store.load(A)
    assert client.commands == ["HGETALL"]
    client.commands.clear()
    assert store.save(A, Change(set={"y": "2"}, deleted=frozenset({"x"}), meta="{}", expires_at=time.time() + 60))
    assert client.commands == ["EVALSHA"]
    client.commands.clear()
    store.delete(A)
    assert client.commands == ["UNLINK"]


def test_touch_lock_and_cache_operations_are_one_command_each(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"x": "1"})
    operations: list[Callable[[], object]] = [
        lambda: store.touch(A, time.time() + 60),
        lambda: store.release(A, "no such token"),
        lambda: store.load_cached(A),
        lambda: store.store_record(A, Record({"x": "1"}, "{}", time.time() + 60, 99)),
        lambda: store.bury(A, 5),
    ]
    for operation in operations:
        operation()  # the first call may also load the script into Redis
        client.commands.clear()
        operation()
        assert client.commands == ["EVALSHA"]
    create(store, A, {"x": "1"})
    store.release(A, str(store.acquire(A, 10, 1)))  # loads the acquire script
    client.commands.clear()
    token = store.acquire(A, 10, 1)
    assert token is not None and client.commands == ["EVALSHA"]
    client.commands.clear()
    assert store.save(A, Change(set={"y": "2"}, meta="{}", expires_at=time.time() + 60, lock_token=token))
    assert client.commands == ["EVALSHA"]
    client.commands.clear()
    store.release(A, token)
    assert client.commands == ["EVALSHA"]


def test_every_key_of_a_record_is_in_one_cluster_slot(store: RedisStore, redis_prefix: str) -> None:
    record_id = _lifecycle.record_id(_lifecycle.new_session_key())
    keys = [store.key(record_id), store.lock_key(record_id), store.tombstone_key(record_id)]
    assert keys[0] == f"{redis_prefix}:{{{record_id}}}"
    assert {key_slot(key.encode()) for key in keys} == {key_slot(record_id.encode())}
    assert key_slot(store.key(A).encode()) != key_slot(store.key("b" * 64).encode())


def test_touch_moves_the_ttl_and_keeps_the_version(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"x": "1"}, expires_at=time.time() + 60)
    assert store.touch(A, time.time() + 1200) is True
    assert client.pttl(store.key(A)) == pytest.approx(1_200_000, abs=2_000)
    record = store.load(A)
    assert record is not None and record.version == 1 and record.data == {"x": "1"}


def test_a_lock_is_a_key_that_ends_with_its_lease(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"x": "1"})
    token = store.acquire(A, 30, 1)
    assert token is not None
    assert client.get(store.lock_key(A)) == token.encode()
    assert client.pttl(store.lock_key(A)) == pytest.approx(30_000, abs=2_000)
    store.release(A, "another holder's token")
    assert client.exists(store.lock_key(A)) == 1
    store.release(A, token)
    assert client.exists(store.lock_key(A)) == 0


def test_a_save_with_a_stale_token_writes_nothing(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"x": "1"})
    stale = store.acquire(A, 10, 1)
    assert stale is not None
    client.delete(store.lock_key(A))  # the lease ran out...
    fresh = store.acquire(A, 10, 1)  # ...and another request took the lock
    assert fresh is not None
    before = client.hgetall(store.key(A))
    with pytest.raises(LockLostError) as caught:
        store.save(A, Change(set={"x": "2", "y": "3"}, meta="{}", expires_at=time.time() + 60, lock_token=stale))
    assert caught.value.store == "redis"
    assert client.hgetall(store.key(A)) == before
    store.release(A, fresh)
    with pytest.raises(LockLostError):  # no lock at all is a lost lock too
        store.save(A, Change(set={"x": "2"}, meta="{}", expires_at=time.time() + 60, lock_token=fresh))
    assert client.hgetall(store.key(A)) == before


def test_a_save_without_a_token_ignores_the_lock(store: RedisStore) -> None:
    create(store, A, {"x": "1"})
    token = store.acquire(A, 10, 1)
    assert store.save(A, Change(set={"x": "2"}, meta="{}", expires_at=time.time() + 60)) is True
    assert token is not None
    store.release(A, token)
    record = store.load(A)
    assert record is not None and record.data == {"x": "2"}


def test_store_record_sets_the_ttl_and_copies_the_version(store: RedisStore, client: CountingRedis) -> None:
    store.store_record(A, Record({"x": "1"}, '{"c":1}', time.time() + 900, 41))
    assert client.pttl(store.key(A)) == pytest.approx(900_000, abs=2_000)
    assert client.hget(store.key(A), "ver") == b"41"
    store.bury(A, 30)
    assert client.exists(store.key(A)) == 0
    assert client.pttl(store.tombstone_key(A)) == pytest.approx(30_000, abs=2_000)


def test_a_save_after_a_delete_does_not_bring_the_session_back(store: RedisStore, client: CountingRedis) -> None:
    create(store, A, {"user": '"bob"'})
    store.delete(A)
    assert store.save(A, Change(set={"cart": "[]"}, meta="{}", expires_at=time.time() + 600)) is False
    assert client.exists(store.key(A)) == 0


def test_keys_named_like_bookkeeping_fields_round_trip(store: RedisStore) -> None:
    expires_at = time.time() + 600
    data = {"meta": '"m"', "exp": "1", "ver": '"v"', "k:x": "2", "k:": "3", "": "4"}
    store.save(A, Change(set=data, replace=True, create=True, meta='{"c":7}', expires_at=expires_at))
    store.save(A, Change(set={"ver": '"w"'}, deleted=frozenset({"k:x"}), meta='{"c":8}', expires_at=expires_at))
    record = store.load(A)
    assert record is not None
    assert record.data == {"meta": '"m"', "exp": "1", "ver": '"w"', "k:": "3", "": "4"}
    assert record.meta == '{"c":8}'
    assert record.expires_at == pytest.approx(expires_at, abs=0.001)
    assert record.version == 2


def test_sessions_with_thousands_of_keys_save_and_shrink(store: RedisStore) -> None:
    many = {f"key{i}": str(i) for i in range(5000)}
    create(store, A, many)
    store.save(A, Change(set={"kept": "1"}, deleted=frozenset(many), meta="{}", expires_at=time.time() + 600))
    record = store.load(A)
    assert record is not None
    assert record.data == {"kept": "1"}


@pytest.mark.parametrize("decode_responses", [True, False])
def test_clients_with_or_without_decode_responses_read_records_alike(decode_responses: bool,
                                                                     redis_prefix: str) -> None:
    client = redis.Redis.from_url(servers.REDIS_URL, decode_responses=decode_responses)
    store = RedisStore(client, redis_prefix)
    create(store, A, {"naïve": '"✓"'})
    for record in (store.load(A), store.load_cached(A)):
        assert isinstance(record, Record) and record.data == {"naïve": '"✓"'} and record.version == 1
    client.close()


def test_client_from_url_builds_clients_whose_replies_are_text() -> None:
    assert client_from_url("redis://127.0.0.1:6379/0").connection_pool.connection_kwargs["decode_responses"] is True


@pytest.mark.parametrize("operation", ["load", "save", "delete", "touch", "lock", "release the lock",
                                       "cache the session", "bury the session"])
def test_an_unreachable_redis_fails_fast_with_a_store_error(operation: str, redis_prefix: str) -> None:
    store = RedisStore(client_from_url(DEAD_URL), redis_prefix)
    calls: dict[str, Callable[[], object]] = {
        "load": lambda: store.load_cached(A),
        "save": lambda: store.save(A, Change(set={"card": '"4111-secret"'}, create=True, replace=True)),
        "delete": lambda: store.delete(A),
        "touch": lambda: store.touch(A, time.time() + 60),
        "lock": lambda: store.acquire(A, 5, 5),
        "release the lock": lambda: store.release(A, "token"),
        "cache the session": lambda: store.store_record(A, Record({"card": '"4111-secret"'}, "{}", time.time(), 1)),
        "bury the session": lambda: store.bury(A, 5),
    }
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        calls[operation]()
    assert time.monotonic() - started < 3
    assert (caught.value.store, caught.value.operation) == ("redis", operation)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    assert "secret" not in str(caught.value)


def test_the_redis_engine_never_falls_back_to_a_local_redis() -> None:
    with pytest.raises(ConfigurationError, match="SESSION_REDIS_URL"):
        RedisStore.from_settings(Settings())


def test_from_settings_uses_the_url_and_prefix(redis_prefix: str) -> None:
    store = RedisStore.from_settings(Settings(engine="redis", redis_url=servers.REDIS_URL, redis_prefix=redis_prefix))
    create(store, A, {"x": "1"})
    assert store.client.exists(f"{redis_prefix}:{{{A}}}") == 1


def test_client_from_url_sets_short_timeouts_that_the_url_may_override() -> None:
    options = client_from_url("redis://127.0.0.1:6379/3").connection_pool.connection_kwargs
    assert options["socket_connect_timeout"] <= 5 and options["socket_timeout"] <= 5
    assert options["health_check_interval"] > 0
    assert options["db"] == 3
    overridden = client_from_url("redis://127.0.0.1:6379/0?socket_timeout=10").connection_pool.connection_kwargs
    assert overridden["socket_timeout"] == 10


def test_client_from_url_knows_unix_sockets_and_tls_and_refuses_the_rest() -> None:
    unix = client_from_url("unix:///run/redis/redis.sock?db=2").connection_pool
    assert isinstance(unix.connection_class, type) and issubclass(unix.connection_class,
                                                                  redis.UnixDomainSocketConnection)
    assert unix.connection_kwargs["path"] == "/run/redis/redis.sock"
    assert issubclass(client_from_url("rediss://127.0.0.1:6380/0").connection_pool.connection_class,
                      redis.SSLConnection)
    with pytest.raises(ValueError, match="memcached"):
        client_from_url("memcached://127.0.0.1:11211")


def test_importing_wsgisession_does_not_import_redis() -> None:
    code = ("import sys, wsgisession, wsgisession.engines, wsgisession.stores.cache;"
            "print('redis' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("decode_responses", [False, True])
@pytest.mark.parametrize(("field", "value"), [("k:x", b"\x80\x04\x95"), (b"k:\xff", b"1"), ("meta", b"\xc3")])
def test_a_hash_holding_bytes_that_are_not_utf8_is_corrupt(redis_prefix: str, decode_responses: bool,
                                                           field: str | bytes, value: bytes) -> None:
    client = redis.Redis.from_url(servers.REDIS_URL, decode_responses=decode_responses)
    store = RedisStore(client, redis_prefix)
    create(store, A, {"x": "1"})
    client.hset(store.key(A), field, value)
    with pytest.raises(CorruptRecord) as caught:
        store.load(A)
    assert A not in str(caught.value)
    with pytest.raises(CorruptRecord):
        store.load_cached(A)
    assert client.ping()  # the connection the reply was read on is still usable
    create(store, A, {"fresh": "1"})  # a new session can take its place
    record = store.load(A)
    assert record is not None and record.data == {"fresh": "1"}
    client.close()
