"""The redis engine on a Redis Cluster whose slots move under load: no request may fail, no write be lost.

``redis-cli --cluster reshard`` moves slots between masters while 150 clients (threads
in this process, each with a session of its own) count up in their sessions through the
middleware, half of them with ``SESSION_LOCKING``. While a slot migrates, Redis answers
``TRYAGAIN`` to a command naming several of its keys that are not all on one node; the
store must name only the keys it needs and wait such moments out.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

from redis.crc import key_slot
from webtest import TestApp

from tests.concurrency import run_in_threads
from tests.conftest import SECRET
from tests.middleware.apps import behaviour_app
from wsgisession import SessionMiddleware, _lifecycle
from wsgisession.backends.server_side import StoreBackend
from wsgisession.signing import SessionIdSigner
from wsgisession.stores.redis import RedisStore

if TYPE_CHECKING:
    from tests.redis_topologies import ClusterTopology

#: Client threads: as many as a busy gthread or gevent worker serves at once.
CLIENTS = 150
#: Slots each reshard moves (of 16384): redis-cli moves a master's lowest slots first.
SLOTS_PER_MOVE = 1000
#: Clients whose sessions are in the slots that move; each such slot gets FILLER_KEYS more
#: keys, so that moving it (one key per MIGRATE) takes about a second, which is longer
#: than redis-py's own retries of a TRYAGAIN last.
MOVING = 6
FILLER_KEYS = 5_000


def middleware_on(topology: ClusterTopology, **settings: Any) -> SessionMiddleware:
    return SessionMiddleware(behaviour_app, {
        "SECRET_KEY": SECRET, "SESSION_ENGINE": "redis", "SESSION_REDIS_URL": topology.url,
        "SESSION_REDIS_PREFIX": f"wsgisession-test-{uuid.uuid4().hex[:12]}",
        "SESSION_REDIS_MAX_CONNECTIONS": CLIENTS + 10, **settings})


def session_key_of(middleware: SessionMiddleware, client: TestApp) -> tuple[RedisStore, str]:
    """The store and Redis key of ``client``'s session."""
    backend = middleware.backend
    assert isinstance(backend, StoreBackend) and isinstance(backend.store, RedisStore)
    unsigned = SessionIdSigner(SECRET).unsign(client.cookies["sessionid"])
    assert unsigned is not None
    return backend.store, backend.store.key(_lifecycle.record_id(unsigned[0]))


def log_in_to_a_moving_slot(middleware: SessionMiddleware, client: TestApp, user: str) -> int:
    """Log in (a new key each time) until the session is in a slot the reshards move; weigh that slot down."""
    while True:
        client.get(f"/login?user={user}")
        store, key = session_key_of(middleware, client)
        slot: int = key_slot(key.encode())
        if slot < SLOTS_PER_MOVE:
            break
    # Keys of the session's own hash tag: in its slot, so the script may name them without declaring them.
    store.client.eval("for n = 1, tonumber(ARGV[1]) do redis.call('SET', KEYS[1] .. ':filler:' .. n, 'x') end",
                      1, key, FILLER_KEYS)  # type: ignore[no-untyped-call]
    return slot


def test_no_request_fails_and_no_write_is_lost_while_slots_move(redis_cluster_to_reshard: ClusterTopology) -> None:
    topology = redis_cluster_to_reshard
    apps = [middleware_on(topology), middleware_on(topology, SESSION_LOCKING=True, SESSION_LOCK_TIMEOUT=10)]
    clients = [TestApp(apps[n % 2]) for n in range(CLIENTS)]
    heavy_slots = {log_in_to_a_moving_slot(apps[n % 2], clients[n], f"user-{n % 10}") for n in range(MOVING)}
    for n in range(MOVING, CLIENTS):
        clients[n].get(f"/login?user=user-{n % 10}")
    owners = topology.slot_owners()
    done = threading.Event()
    counted = [0] * CLIENTS
    failures: list[str] = []

    def count_up(n: int) -> None:
        while not done.is_set():
            response = clients[n].get("/inc", status="*")
            if response.status_int == 200:
                counted[n] += 1
            elif len(failures) < 20:
                failures.append(f"client {n}: {response.status} {response.text[:200]}")

    def reshard() -> None:
        ports = topology.ports
        try:
            for moves in range(2):
                moved = topology.reshard(ports[moves % 3], ports[(moves + 1) % 3], SLOTS_PER_MOVE, pipeline=1)
                assert moved.returncode == 0, moved.stdout[-2000:] + moved.stderr
        finally:
            done.set()

    run_in_threads(lambda n: reshard() if n == CLIENTS else count_up(n), CLIENTS + 1)

    assert {slot for slot in heavy_slots if topology.slot_owners()[slot] != owners[slot]} == heavy_slots
    assert failures == []
    for n, client in enumerate(clients):
        assert client.get("/get").json["count"] == counted[n], f"client {n} lost writes"
    assert min(counted) > 0
