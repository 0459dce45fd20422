"""The redis engine on a Redis Cluster and behind Sentinels, over TLS and as an ACL user.

The store contract and capability suites run here unchanged on a Cluster and on a
Sentinel-watched master (the ``store`` fixture below); the other tests check what only
these deployments have: slots, the user index across nodes, a fail-over, certificates,
passwords, and the settings that choose them.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from wsgisession.backends.server_side import StoreBackend
from wsgisession.engines import build_backend
from wsgisession.errors import ConfigurationError, StoreError
from wsgisession.settings import Settings
from wsgisession.stores.base import Change, Tombstone
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.redis_client import ClientOptions, client_from_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.redis_topologies import AclServer, ClusterTopology, SentinelTopology, TlsServer


A = "a" * 64
SECRET = "test-secret-key-0123456789abcdef"

def open_store(topology_settings: dict[str, Any]) -> RedisStore:
    """A store built from a settings dict, as the middleware builds it, under a prefix of its own."""
    settings = Settings.from_mapping({"SECRET_KEY": SECRET, "SESSION_ENGINE": "redis",
                                      "SESSION_REDIS_PREFIX": f"wsgisession-test-{uuid.uuid4().hex[:12]}",
                                      **topology_settings})
    backend = build_backend(settings)
    assert isinstance(backend, StoreBackend) and isinstance(backend.store, RedisStore)
    return backend.store


def node_of(client: RedisCluster, key: str) -> str:
    """``host:port`` of the Cluster node that serves ``key``'s slot."""
    return str(client.get_node_from_key(key).name)  # type: ignore[no-untyped-call]


def save(store: RedisStore, record_id: str, data: dict[str, str], user_id: str | None = None,
         lock_token: str | None = None) -> None:
    change = Change(set=data, replace=True, create=True, meta="{}", expires_at=time.time() + 600, user_id=user_id,
                    lock_token=lock_token)
    assert store.save(record_id, change) is True


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(("keys", "url"), [
    ({"SESSION_REDIS_SENTINELS": ["10.0.0.1:26379", "[::1]:26380"], "SESSION_REDIS_SENTINEL_MASTER": "main"},
     "redis+sentinel://10.0.0.1:26379,[::1]:26380/main/0"),
    ({"SESSION_REDIS_SENTINELS": ("s1:26379",), "SESSION_REDIS_SENTINEL_MASTER": "main", "SESSION_REDIS_DB": 2,
      "SESSION_REDIS_PASSWORD": "p@ss/word"}, "redis+sentinel://:p%40ss%2Fword@s1:26379/main/2"),
    ({"SESSION_REDIS_CLUSTER": True, "SESSION_REDIS_URL": "rediss://user:pw@node-1:7000"},
     "rediss+cluster://user:pw@node-1:7000"),
    ({"SESSION_REDIS_CLUSTER": True, "SESSION_REDIS_HOST": "node-2", "SESSION_REDIS_PORT": 7001},
     "redis+cluster://node-2:7001/0"),
    ({"SESSION_REDIS_CLUSTER": False, "SESSION_REDIS_URL": "redis://one:6379/1"}, "redis://one:6379/1"),
    ({"SESSION_REDIS_URL": "redis+cluster://node-1:7000"}, "redis+cluster://node-1:7000"),
])
def test_topology_settings_fold_into_one_url(keys: dict[str, Any], url: str) -> None:
    assert Settings.from_mapping({"SECRET_KEY": SECRET, **keys}).redis_url == url


@pytest.mark.parametrize(("keys", "named"), [
    ({"SESSION_REDIS_SENTINELS": "s1:26379", "SESSION_REDIS_SENTINEL_MASTER": "m"}, "SESSION_REDIS_SENTINELS"),
    ({"SESSION_REDIS_SENTINELS": ["s1"], "SESSION_REDIS_SENTINEL_MASTER": "m"}, "SESSION_REDIS_SENTINELS"),
    ({"SESSION_REDIS_SENTINELS": ["s1:26379"]}, "SESSION_REDIS_SENTINEL_MASTER"),
    ({"SESSION_REDIS_SENTINEL_MASTER": "m"}, "SESSION_REDIS_SENTINELS"),
    ({"SESSION_REDIS_SENTINELS": ["s1:1"], "SESSION_REDIS_SENTINEL_MASTER": "m", "SESSION_REDIS_URL": "redis://x"},
     "SESSION_REDIS_URL"),
    ({"SESSION_REDIS_SENTINELS": ["s1:1"], "SESSION_REDIS_SENTINEL_MASTER": "m", "SESSION_REDIS_HOST": "x"},
     "SESSION_REDIS_HOST"),
    ({"SESSION_REDIS_CLUSTER": True, "SESSION_REDIS_URL": "unix:///run/redis.sock"}, "SESSION_REDIS_CLUSTER"),
    ({"SESSION_REDIS_CLUSTER": True}, "SESSION_REDIS_CLUSTER"),
    ({"SESSION_REDIS_CLUSTER": "yes", "SESSION_REDIS_URL": "redis://x"}, "SESSION_REDIS_CLUSTER"),
    ({"SESSION_REDIS_URL": "redis+shards://x"}, "SESSION_REDIS_URL"),
    ({"SESSION_REDIS_SOCKET_TIMEOUT": "3"}, "SESSION_REDIS_SOCKET_TIMEOUT"),
    ({"SESSION_REDIS_CONNECT_TIMEOUT": 0}, "SESSION_REDIS_CONNECT_TIMEOUT"),
    ({"SESSION_REDIS_MAX_CONNECTIONS": 2.5}, "SESSION_REDIS_MAX_CONNECTIONS"),
    ({"SESSION_REDIS_MAX_CONNECTIONS": True}, "SESSION_REDIS_MAX_CONNECTIONS"),
    ({"SESSION_REDIS_SSL_CA_CERTS": "/no/such/ca.pem"}, "SESSION_REDIS_SSL_CA_CERTS"),
])
def test_wrong_topology_settings_name_their_key(keys: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_mapping({"SECRET_KEY": SECRET, **keys})
    assert named in [problem.key for problem in caught.value.problems]


def test_client_options_default_to_the_settings_defaults() -> None:
    assert ClientOptions.from_settings(Settings()) == ClientOptions()
    settings = Settings.from_mapping({"SECRET_KEY": SECRET, "SESSION_REDIS_SOCKET_TIMEOUT": 7,
                                      "SESSION_REDIS_CONNECT_TIMEOUT": 1.5, "SESSION_REDIS_MAX_CONNECTIONS": 9})
    assert ClientOptions.from_settings(settings) == ClientOptions(7.0, 1.5, 9, None)


def test_every_kind_of_client_gets_the_options(redis_cluster: ClusterTopology, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("not read until a TLS connection is made")
    options = ClientOptions(socket_timeout=7, connect_timeout=1.5, max_connections=9, ssl_ca_certs=str(ca_file))
    clients = [client_from_url(url, options) for url in (  # none of these connects yet
        "redis://127.0.0.1:6379/0", "rediss://127.0.0.1:6380/0",
        "redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster/3?client_name=x")]
    cluster = client_from_url(redis_cluster.url, options)
    assert isinstance(cluster, RedisCluster)
    nodes: list[Any] = cluster.get_nodes()  # type: ignore[no-untyped-call]
    pools = [client.connection_pool for client in clients if isinstance(client, redis.Redis)]
    pools += [node.redis_connection.connection_pool for node in nodes]
    assert len(pools) == 6
    for pool in pools:
        assert pool.max_connections == 9
        assert pool.connection_kwargs["socket_timeout"] == 7
        assert pool.connection_kwargs["socket_connect_timeout"] == 1.5
    assert pools[1].connection_kwargs["ssl_ca_certs"] == str(ca_file)
    assert "ssl_ca_certs" not in pools[0].connection_kwargs
    assert (pools[2].connection_kwargs["db"], pools[2].connection_kwargs["client_name"]) == (3, "x")
    assert getattr(pools[2], "service_name", None) == "mymaster"
    cluster.close()


def test_an_unreachable_cluster_is_a_store_error_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        RedisStore.from_settings(Settings(engine="redis", redis_url="redis+cluster://127.0.0.1:1"))
    assert time.monotonic() - started < 5
    assert (caught.value.store, caught.value.operation) == ("redis", "connect")


# --- Cluster -------------------------------------------------------------------------------


def test_a_record_and_its_lock_live_on_one_cluster_node(redis_cluster: ClusterTopology) -> None:
    store = open_store({"SESSION_REDIS_URL": redis_cluster.url})
    client = store.client
    assert isinstance(client, RedisCluster)
    save(store, A, {"x": "1"})
    token = store.acquire(A, 10, 1)
    assert token is not None
    save(store, A, {"x": "2"}, lock_token=token)
    keys = [store.key(A), store.lock_key(A)]
    assert len({key_slot(key.encode()) for key in keys}) == 1
    direct = redis.Redis.from_url(f"redis://{node_of(client, keys[0])}")
    assert direct.exists(*keys) == 2 and direct.hget(keys[0], "k:x") == b"2"
    store.bury(A, 5)
    assert direct.exists(store.tombstone_key(A)) == 1
    direct.close()
    client.close()


def test_the_user_index_spans_cluster_nodes(redis_cluster: ClusterTopology) -> None:
    store = open_store(redis_cluster.settings)
    client = store.client
    assert isinstance(client, RedisCluster)
    sessions = sorted(secrets.token_hex(32) for _ in range(12))
    for record_id in sessions:
        save(store, record_id, {"x": "1"}, user_id="alice")
    index = store.user_index_key("alice")
    # 12 random slots on 3 nodes: all on the index's node has odds of 3 ** -12.
    assert {node_of(client, store.key(record_id)) for record_id in sessions} - {node_of(client, index)}
    assert store.user_sessions("alice") == sessions
    store.delete(sessions[0])
    assert store.user_sessions("alice") == sessions[1:]
    assert len(client.smembers(index)) == 11  # the dead entry was pruned
    assert store.delete_user_sessions("alice", except_record_id=sessions[1]) == 10
    assert store.user_sessions("alice") == [sessions[1]]
    assert [store.load(record_id) is None for record_id in sessions] == [True, False] + [True] * 10
    client.close()


@contextlib.contextmanager
def slot_migrating(topology: ClusterTopology, store: RedisStore, record_id: str,
                   settle_after: float) -> Iterator[threading.Timer]:
    """The first step of a reshard for ``record_id``'s slot: the record stays on the source, keys
    not there yet are on neither node. Yields a timer (not started) that ends the migration after
    ``settle_after`` seconds; it is ended on exit in any case."""
    slot = key_slot(store.key(record_id).encode())
    source = topology.slot_owners()[slot]
    target = next(port for port in topology.ports if port != source)
    nodes = topology.servers.by_port(source), topology.servers.by_port(target)
    nodes[1].command("CLUSTER", "SETSLOT", str(slot), "IMPORTING", topology.node_id(source))
    nodes[0].command("CLUSTER", "SETSLOT", str(slot), "MIGRATING", topology.node_id(target))

    def settle() -> None:
        for node in nodes:
            node.command("CLUSTER", "SETSLOT", str(slot), "STABLE")

    timer = threading.Timer(settle_after, settle)
    try:
        yield timer
    finally:
        timer.cancel()
        settle()


def test_a_migrating_slot_fails_neither_a_save_nor_a_waiting_lock(redis_cluster_to_reshard: ClusterTopology) -> None:
    topology = redis_cluster_to_reshard
    store = open_store({"SESSION_REDIS_URL": topology.url})
    save(store, A, {"x": "1"})
    with slot_migrating(topology, store, A, settle_after=1.5) as settle:  # the session's lock is on neither node
        save(store, A, {"x": "2"})  # names the session only: the source runs it
        with pytest.raises(StoreError, match="TTL exhausted"):  # TRYAGAIN for longer than the lock waits
            store.acquire(A, 10, 0.5)
        settle.start()
        token = store.acquire(A, 10, 5)  # waits the migration out
        assert token is not None
        save(store, A, {"x": "3"}, lock_token=token)
    record = store.load(A)
    assert record is not None and record.data == {"x": "3"}
    store.client.close()


def test_a_migrating_slot_fails_no_logout_of_cached_db(redis_cluster_to_reshard: ClusterTopology) -> None:
    """cached_db buries a session in its cache (the record and its tombstone key) before a logout deletes its row."""
    topology = redis_cluster_to_reshard
    store = open_store({"SESSION_REDIS_URL": topology.url})
    save(store, A, {"x": "1"})
    with slot_migrating(topology, store, A, settle_after=1.0) as settle:
        settle.start()
        store.bury(A, 5)  # the tombstone is on neither node yet: TRYAGAIN until the slot settles
    assert store.load_cached(A) is Tombstone.GONE
    store.client.close()


# --- Sentinel ------------------------------------------------------------------------------


def test_sentinel_writes_go_to_the_master_and_reach_the_replica(redis_sentinel: SentinelTopology) -> None:
    store = open_store({"SESSION_REDIS_URL": redis_sentinel.url})
    save(store, A, {"x": "1"})
    master = redis_sentinel.servers.by_port(redis_sentinel.master_port())
    assert master.name == "master"
    assert master.command("HGET", store.key(A), "k:x") == "1"
    assert store.client.wait(1, 5000) == 1
    replica = next(server for server in redis_sentinel.servers.started if server.name == "replica")
    assert replica.command("HGET", store.key(A), "k:x") == "1"
    store.client.close()


def test_sessions_survive_a_sentinel_fail_over(redis_sentinel_to_fail_over: SentinelTopology) -> None:
    topology = redis_sentinel_to_fail_over
    store = open_store(topology.settings)
    save(store, A, {"user": '"alice"'})
    assert store.client.wait(1, 5000) == 1  # the replica has the session before its master goes
    old_port = topology.master_port()
    topology.servers.by_port(old_port).stop()
    started = time.monotonic()
    with pytest.raises(StoreError):  # during the switch: fails fast rather than hanging
        store.load(A)
    assert time.monotonic() - started < 5
    new_port = topology.wait_for_failover(old_port)
    assert new_port != old_port
    try:  # the same client: the next request reads the session, or the one after a StoreError
        record = store.load(A)
    except StoreError:
        record = store.load(A)
    assert record is not None and record.data == {"user": '"alice"'}
    assert store.save(A, Change(set={"n": "1"}, meta="{}", expires_at=time.time() + 60)) is True
    assert topology.servers.by_port(new_port).command("HGET", store.key(A), "k:n") == "1"
    store.client.close()


# --- TLS and ACL ---------------------------------------------------------------------------


def test_a_round_trip_over_tls_checks_the_certificate(redis_tls: TlsServer) -> None:
    store = open_store({"SESSION_REDIS_URL": redis_tls.url, "SESSION_REDIS_SSL_CA_CERTS": str(redis_tls.ca_file)})
    save(store, A, {"x": "1"})
    record = store.load(A)
    assert record is not None and record.data == {"x": "1"}
    store.client.close()
    untrusting = open_store({"SESSION_REDIS_URL": redis_tls.url})  # the system's CAs do not know the certificate
    with pytest.raises(StoreError, match="certificate verify failed"):
        untrusting.load(A)
    untrusting.client.close()


def test_an_acl_user_reaches_redis_and_a_wrong_password_is_a_store_error(redis_acl: AclServer) -> None:
    store = open_store({"SESSION_REDIS_URL": redis_acl.url()})  # a prefix the user may use, as ~prefix* allows
    save(store, A, {"x": "1"}, user_id="bob")
    token = store.acquire(A, 5, 1)
    assert token is not None and store.touch(A, time.time() + 60)
    store.release(A, token)
    assert store.user_sessions("bob") == [A] and store.delete_user_sessions("bob") == 1
    assert store.client.acl_whoami() == "alice"
    store.client.close()
    wrong = "n0t-alices-pa55"
    refused = open_store({"SESSION_REDIS_URL": redis_acl.url(wrong)})
    with pytest.raises(StoreError) as caught:
        refused.load(A)
    assert isinstance(caught.value.__cause__, redis.AuthenticationError)
    assert wrong not in str(caught.value) and redis_acl.password not in str(caught.value)
    refused.client.close()
