"""Per-key saves against blob saves, for a 10-key session where a request changes one key.

    python -m benchmarks.internals.perkey [--rounds 7] [--loops 300]

A blob save is what Django, Beaker and Flask-Session do: serialize the whole session and
write it in one command. A per-key save is wsgisession's: the changed key only, applied
atomically onto the stored session (a Lua script on Redis, a version-guarded UPDATE on
SQL, a read-merge-write under a file lock). Both write to the same real server or file
system in one run, interleaved, through the same mechanics (the store's Redis client, its
SQL engine and compiled statements, its file writes); the table gives the median µs per
save and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
import sqlalchemy as sa

from wsgisession.stores.base import Change, Store
from wsgisession.stores.file import FileStore
from wsgisession.stores.file import _io as _file_io
from wsgisession.stores.redis import RedisStore
from wsgisession.stores.redis_client import client_from_url
from wsgisession.stores.sql import SqlStore
from wsgisession.stores.sql import _engine as _sql_engine
from wsgisession.stores.sql._statements import Statement, cursor

RECORD_ID = "c" * 64
SESSION = {f"key{n}": json.dumps({"value": n, "label": f"item number {n}"}) for n in range(10)}
REDIS_URL = os.environ.get("WSGISESSION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

Save = Callable[[int], None]


def per_key_save(store: Store) -> Save:
    """A save of one changed key onto the 10-key record, with the base and version a request loaded."""
    store.save(RECORD_ID, Change(set=SESSION, replace=True, create=True, meta="{}", expires_at=time.time() + 600))
    loaded = [store.load(RECORD_ID)]

    def save(n: int) -> None:
        record = loaded[0]
        change = Change(set={"key3": str(n)}, meta="{}", expires_at=time.time() + 600,
                        base=record.data if record else None, version=record.version if record else None)
        if isinstance(store, SqlStore):  # what the next request would load, without timing a SELECT
            loaded[0] = store.save_returning(RECORD_ID, change)
        else:
            store.save(RECORD_ID, change)

    return save


def redis_blob_save(client: redis.Redis, key: str) -> Save:  # type: ignore[type-arg,unused-ignore]
    def save(n: int) -> None:
        client.set(key, json.dumps({**SESSION, "key3": str(n)}), px=600_000)

    return save


def sql_blob_save(url: str, table: str) -> Save:
    """One UPDATE of the whole session, run as the store runs its statements (same engine setup, compiled once)."""
    engine = _sql_engine.create_engine(sa.make_url(url))
    blobs = sa.Table(table, sa.MetaData(), sa.Column("k", sa.String(64), primary_key=True), sa.Column("v", sa.Text))
    blobs.create(engine)
    with engine.connect() as connection:
        connection.execute(sa.insert(blobs).values(k=RECORD_ID, v=json.dumps(SESSION)))
    update = Statement(sa.update(blobs).where(blobs.c.k == sa.bindparam("key")).values(v=sa.bindparam("value")),
                       engine.dialect)

    def save(n: int) -> None:
        with cursor(engine) as opened:
            update.run(opened, key=RECORD_ID, value=json.dumps({**SESSION, "key3": str(n)}))

    return save


def file_blob_save(folder: Path) -> Save:
    """The whole session written to a new file swapped in, as the store writes its files (no lock, no read)."""
    def save(n: int) -> None:
        _file_io.replace(str(folder), str(folder / "blob"), json.dumps({**SESSION, "key3": str(n)}).encode())

    return save


def timed(save: Save, loops: int) -> float:
    started = time.perf_counter()
    for n in range(loops):
        save(n)
    return (time.perf_counter() - started) / loops * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--loops", type=int, default=300)
    args = parser.parse_args()
    prefix = f"wsgisession-bench-{uuid.uuid4().hex[:8]}"
    client = client_from_url(REDIS_URL)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        (folder / "files").mkdir()
        sqlite_url = f"sqlite:///{folder / 'bench.sqlite3'}"
        pairs = {
            "redis": (per_key_save(RedisStore(client, prefix)), redis_blob_save(client, f"{prefix}:blob")),
            "SQL (SQLite)": (per_key_save(SqlStore(sqlite_url, "perkey")), sql_blob_save(sqlite_url, "blob")),
            "file": (per_key_save(FileStore(folder / "files")), file_blob_save(folder)),
        }
        results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in pairs}
        for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits both alike
            for name, (per_key, blob) in pairs.items():
                results[name][0].append(timed(per_key, args.loops))
                results[name][1].append(timed(blob, args.loops))
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    print("| store | per-key save (µs) | blob save (µs) | per-key / blob |")
    print("|---|---|---|---|")
    for name, (per_key_times, blob_times) in results.items():
        per_key_median, blob_median = statistics.median(per_key_times), statistics.median(blob_times)
        print(f"| {name} | {per_key_median:.1f} | {blob_median:.1f} | {per_key_median / blob_median:.2f}x |")
    print(f"\n10-key session, one key changed per save; median of {args.rounds} interleaved rounds of "
          f"{args.loops} saves; loads are not timed.")


if __name__ == "__main__":
    main()
