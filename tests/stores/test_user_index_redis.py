"""The redis engine's per-user index: listing and deleting a user's sessions, its layout and its TTL."""

from __future__ import annotations

import re
import secrets
import time

import pytest
import redis

from tests import servers
from tests.stores import test_redis
from tests.stores.test_redis import DEAD_URL, CountingRedis
from wsgisession.errors import StoreError
from wsgisession.stores.base import Change, IndexesUsers
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.redis._users import INDEX_MARGIN
from wsgisession.stores.redis_client import client_from_url

ODD_USER = "{tenant}:ünïcødé:{}:💥"


# A store on a command-counting client of the shared Redis: test_redis's fixtures.
client = test_redis.client
store = test_redis.store


def login(store: RedisStore, user_id: str | None, expires_in: float = 600) -> str:
    """Save a new session of ``user_id``; return its record id."""
    record_id = secrets.token_hex(32)
    change = Change(set={"x": "1"}, replace=True, create=True, meta="{}", expires_at=time.time() + expires_in,
                    user_id=user_id)
    assert store.save(record_id, change) is True
    return record_id


def update(store: RedisStore, record_id: str, expires_in: float = 600, user_id: str | None = None) -> bool:
    change = Change(set={"y": "2"}, meta="{}", expires_at=time.time() + expires_in, user_id=user_id)
    return store.save(record_id, change)


def members(client: redis.Redis, key: str) -> set[str]:  # type: ignore[type-arg,unused-ignore]
    return {member.decode() if isinstance(member, bytes) else member for member in client.smembers(key)}


def test_the_redis_store_indexes_users(store: RedisStore) -> None:
    assert isinstance(store, IndexesUsers)


def test_log_out_everywhere_else(store: RedisStore, client: CountingRedis) -> None:
    alice = [login(store, "alice") for _ in range(3)]
    bob = login(store, "bob")
    assert store.user_sessions("alice") == sorted(alice)
    assert store.user_sessions("bob") == [bob]
    kept = alice[1]
    assert store.delete_user_sessions("alice", except_record_id=kept) == 2
    assert store.load(alice[0]) is None and store.load(alice[2]) is None
    assert store.load(kept) is not None and store.load(bob) is not None
    assert store.user_sessions("alice") == [kept]
    assert members(client, store.user_index_key("alice")) == {kept}
    assert store.delete_user_sessions("alice", except_record_id=kept) == 0


def test_log_out_everywhere_drops_the_index(store: RedisStore, client: CountingRedis) -> None:
    alice = [login(store, "alice") for _ in range(2)]
    assert store.delete_user_sessions("alice") == 2
    assert [store.load(record_id) for record_id in alice] == [None, None]
    assert client.exists(store.user_index_key("alice")) == 0
    assert store.user_sessions("alice") == []
    assert store.delete_user_sessions("nobody") == 0


def test_expired_and_deleted_sessions_are_skipped_and_pruned(store: RedisStore, client: CountingRedis) -> None:
    live = login(store, "alice")
    expired = login(store, "alice", expires_in=-0.001)  # saved with an expiry a moment ago
    ran_out = login(store, "alice", expires_in=0.05)
    deleted = login(store, "alice")
    store.delete(deleted)
    time.sleep(0.1)
    index = store.user_index_key("alice")
    assert members(client, index) == {live, expired, ran_out, deleted}
    assert store.user_sessions("alice") == [live]
    assert members(client, index) == {live}
    assert store.delete_user_sessions("alice") == 1


def test_a_session_that_changes_hands_leaves_its_old_users_index(store: RedisStore) -> None:
    shared = login(store, "alice")
    assert update(store, shared, user_id="bob") is True
    assert store.delete_user_sessions("alice") == 0  # alice's stale entry: the session is bob's now
    assert store.load(shared) is not None
    login(store, "alice")  # a fresh index for alice...
    assert update(store, shared, user_id="alice") and update(store, shared, user_id="bob")
    assert len(store.user_sessions("alice")) == 1  # ...lists only her own session
    assert store.user_sessions("bob") == [shared]


def test_a_replace_without_a_user_keeps_the_owner(store: RedisStore) -> None:
    record_id = login(store, "alice")
    change = Change(set={"z": "3"}, replace=True, meta="{}", expires_at=time.time() + 600)
    assert store.save(record_id, change) is True
    record = store.load(record_id)
    assert record is not None and record.data == {"z": "3"}
    assert store.user_sessions("alice") == [record_id]


def test_an_update_of_a_deleted_session_does_not_index_it(store: RedisStore, client: CountingRedis) -> None:
    record_id = login(store, None)
    store.delete(record_id)
    assert update(store, record_id, user_id="alice") is False
    assert client.exists(store.user_index_key("alice")) == 0


def test_user_ids_of_any_characters_stay_out_of_key_names(store: RedisStore, client: CountingRedis,
                                                          redis_prefix: str) -> None:
    odd = [login(store, ODD_USER) for _ in range(2)]
    other = login(store, ODD_USER + ":")
    index = store.user_index_key(ODD_USER)
    assert re.fullmatch(rf"{re.escape(redis_prefix)}:user:[0-9a-f]{{32}}", index)
    assert index != store.user_index_key(ODD_USER + ":")
    names = {name.decode() for name in client.scan_iter(match=f"{redis_prefix}*")}
    assert names == {index, store.user_index_key(ODD_USER + ":"), *(store.key(r) for r in [*odd, other])}
    assert not any(part in name for name in names for part in ("ünï", "tenant", "💥"))
    assert store.user_sessions(ODD_USER) == sorted(odd)
    assert store.delete_user_sessions(ODD_USER, except_record_id=odd[0]) == 1
    assert store.user_sessions(ODD_USER) == [odd[0]]
    assert store.user_sessions(ODD_USER + ":") == [other]


def test_saves_without_a_user_do_not_touch_the_index(store: RedisStore, client: CountingRedis) -> None:
    anonymous = login(store, None)  # the first save may also load the script into Redis
    owned = login(store, "alice")
    client.commands.clear()
    assert update(store, anonymous) is True
    assert client.commands == ["EVALSHA"]
    client.commands.clear()
    assert update(store, owned, expires_in=1200) is True  # still within the index's margin
    assert client.commands == ["EVALSHA"]
    client.commands.clear()
    assert store.touch(owned, time.time() + 1800) is True
    assert client.commands == ["EVALSHA"]
    client.commands.clear()
    login(store, "alice")
    assert client.commands == ["EVALSHA", "EVALSHA"]  # the save, then the index


def test_the_index_lasts_as_long_as_its_longest_session(store: RedisStore, client: CountingRedis) -> None:
    index = store.user_index_key("alice")
    login(store, "alice", expires_in=1200)
    login(store, "alice", expires_in=600)  # never shortens the index
    assert client.pttl(index) >= 1_200_000
    assert client.pttl(index) <= (1200 + INDEX_MARGIN) * 1000


@pytest.mark.parametrize("renew", ["save", "touch"])
def test_a_session_renewed_past_the_margin_extends_the_index(store: RedisStore, client: CountingRedis,
                                                            renew: str) -> None:
    record_id = login(store, "alice")
    later = time.time() + 2 * INDEX_MARGIN
    if renew == "save":
        assert update(store, record_id, expires_in=2 * INDEX_MARGIN) is True
    else:
        assert store.touch(record_id, later) is True
    assert client.pexpiretime(store.user_index_key("alice")) >= later * 1000
    assert store.user_sessions("alice") == [record_id]


def test_the_index_works_with_a_client_that_decodes_responses(redis_prefix: str) -> None:
    client = redis.Redis.from_url(servers.REDIS_URL, decode_responses=True)
    store = RedisStore(client, redis_prefix)
    alice = [login(store, ODD_USER) for _ in range(2)]
    assert store.user_sessions(ODD_USER) == sorted(alice)
    assert store.delete_user_sessions(ODD_USER, except_record_id=alice[0]) == 1
    assert store.user_sessions(ODD_USER) == [alice[0]]
    client.close()


@pytest.mark.parametrize("operation", ["list the user's sessions", "delete the user's sessions"])
def test_an_unreachable_redis_is_a_store_error(operation: str, redis_prefix: str) -> None:
    store = RedisStore(client_from_url(DEAD_URL), redis_prefix)
    with pytest.raises(StoreError) as caught:
        if operation == "list the user's sessions":
            store.user_sessions("alice")
        else:
            store.delete_user_sessions("alice")
    assert (caught.value.store, caught.value.operation) == ("redis", operation)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)


def test_a_failed_index_update_fails_the_save(store: RedisStore, client: CountingRedis) -> None:
    client.set(store.user_index_key("alice"), "not a set")  # SADD now fails with WRONGTYPE
    record_id = secrets.token_hex(32)
    with pytest.raises(StoreError) as caught:
        store.save(record_id, Change(set={"x": "1"}, replace=True, create=True, meta="{}",
                                     expires_at=time.time() + 600, user_id="alice"))
    assert caught.value.operation == "save"
    assert store.load(record_id) is not None  # saved, but not indexed (see RedisStore.save)
