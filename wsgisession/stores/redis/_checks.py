"""What ``wsgisession check`` verifies of a Redis store: the connection and credentials, the server's version,
scripts, write permission on the prefix, and on a Cluster that every slot is served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from redis.cluster import RedisCluster

from ...checks import CheckResult, failed, from_error, passed
from ...errors import StoreError
from .._errors import Diagnosis, StoreErrors
from ..redis_client import RedisClient

#: The oldest Redis the store's scripts run on (``PEXPIREAT … NX``/``GT``, see ``_users``).
MINIMUM_VERSION = (7, 0)
#: Slots a Redis Cluster has; each must be served by a master.
CLUSTER_SLOTS = 16384
_PROBE_SCRIPT = "return 1"


class CheckedStore(Protocol):
    """What the checks use of the store (a ``RedisStore``): its client, prefix, setting, scripts and errors."""

    @property
    def client(self) -> RedisClient: ...

    @property
    def prefix(self) -> str: ...

    @property
    def setting(self) -> str: ...

    @property
    def diagnosis(self) -> Diagnosis: ...

    def scripts(self) -> list[Any]: ...

    def _errors(self, operation: str) -> StoreErrors: ...


def check(store: CheckedStore) -> list[CheckResult]:
    """Run the checks in order; the first that fails ends the list (the later ones would fail with it)."""
    steps: list[tuple[str, Callable[[CheckedStore], CheckResult]]] = [
        ("connect", _connect), ("version", _version), ("scripts", _scripts), ("write", _write)]
    if isinstance(store.client, RedisCluster):
        steps.append(("cluster", _cluster))
    results = []
    for name, step in steps:
        try:
            with store._errors(f"check ({name})"):
                results.append(step(store))
        except StoreError as exc:
            results.append(from_error(name, exc, store.setting, store.diagnosis.server))
        if not results[-1].ok:
            break
    return results


def _connect(store: CheckedStore) -> CheckResult:
    store.client.ping()
    return passed("connect", f"connected and authenticated to {store.diagnosis.server}")


def _version(store: CheckedStore) -> CheckResult:
    # HELLO, not INFO: an ACL that denies @dangerous (INFO among them) still allows HELLO.
    if isinstance(store.client, RedisCluster):  # redis-py routes no HELLO: ask each node's own client
        nodes = store.client.get_nodes()  # type: ignore[no-untyped-call]
        replies = [node.redis_connection.execute_command("HELLO") for node in nodes]
    else:
        replies = [store.client.execute_command("HELLO")]  # type: ignore[no-untyped-call]
    versions = sorted({_parse_version(_field(reply, "version")) for reply in replies})
    shown = ", ".join(".".join(map(str, version)) for version in versions)
    if versions[0] < MINIMUM_VERSION:
        return failed("version", f"Redis {shown}, older than the {'.'.join(map(str, MINIMUM_VERSION))} the store's"
                                 " scripts need", store.setting, "upgrade Redis, or point the URL at a newer one")
    return passed("version", f"Redis {shown}")


def _scripts(store: CheckedStore) -> CheckResult:
    sha = store.client.script_load(_PROBE_SCRIPT)
    if store.client.evalsha(sha, 0) != 1:
        return failed("scripts", "EVALSHA did not run the script it loaded", store.setting,
                      "use a Redis that runs Lua scripts (EVAL, EVALSHA, SCRIPT LOAD)")
    for script in store.scripts():
        store.client.script_load(script.script)  # compiles each: a server that refuses one says so now
    return passed("scripts", "SCRIPT LOAD and EVALSHA work; the store's scripts compile")


def _write(store: CheckedStore) -> CheckResult:
    key = f"{store.prefix}:{{wsgisession-check}}"
    store.client.set(key, "1", px=10_000)
    store.client.delete(key)
    return passed("write", f"may write keys under the prefix {store.prefix!r}")


def _cluster(store: CheckedStore) -> CheckResult:
    """Every node's own view of the slot map (a node that dropped slots may be the only one that knows)."""
    views = store.client.execute_command(  # type: ignore[no-untyped-call]
        "CLUSTER SLOTS", target_nodes=RedisCluster.ALL_NODES)
    served = min(sum(int(last) - int(first) + 1 for first, last, *_ in view) for view in _views(views))
    if served < CLUSTER_SLOTS:
        return failed("cluster", f"masters serve {served} of the {CLUSTER_SLOTS} slots: sessions in the others fail",
                      store.setting, "assign every slot to a master (redis-cli --cluster fix HOST:PORT)")
    return passed("cluster", f"all {CLUSTER_SLOTS} slots are served")


def _views(reply: Any) -> list[Any]:
    """One reply per node: redis-py gives a dict by node name for several nodes, the reply itself for one."""
    return list(reply.values()) if isinstance(reply, dict) else [reply]


def _field(reply: Any, name: str) -> str:
    """A field of HELLO's reply: a map in RESP3, a flat list of names and values in RESP2."""
    if isinstance(reply, dict):
        return str(reply[name])
    return str(dict(zip(reply[::2], reply[1::2], strict=True))[name])


def _parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())
