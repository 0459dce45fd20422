"""``wsgisession migrate`` between wsgisession engines: records copied id for id, then deleted from the old store.

A record keeps its id (the hash of its key), so the browser's cookie finds it in the new store
as it is, provided the new settings verify it: the old ``SECRET_KEY`` must be the new one or
among its ``SECRET_KEY_FALLBACKS``. The old engine's records are listed from a SQL table
(``db``, ``cached_db``) or by a SCAN of its Redis prefix (``redis``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import sqlalchemy as sa

from .. import _lifecycle
from ..backends.server_side import StoreBackend
from ..engines import build_serializer
from ..errors import ConfigurationError, SettingProblem
from ..settings import Settings
from ..stores.base import RECORD_ID_PATTERN, Change, Record, Retires, Store
from ._run import Moved, Progress, server_side
from .django import engine_url

#: The old engines whose records this module can list.
LISTED_ENGINES = ("db", "cached_db", "redis")


def migrate_records(source: Settings, target: Settings, now: float, batch_size: int,
                    progress: Progress | None = None) -> Moved:
    """Copy every live record of ``source``'s store to ``target``'s, deleting each from ``source`` after."""
    _check_pair(source, target)
    old = server_side(dataclasses.replace(source, locking=False), "--from")
    new = server_side(dataclasses.replace(target, migrate_from=None), "--to")
    reserialize = source.serializer != target.serializer
    old_serializer, new_serializer = build_serializer(source), build_serializer(target)
    counts = Moved()
    for batch in _record_ids(source, old, batch_size):
        for record_id in batch:
            record = old.store.load(record_id)
            if record is None:
                continue
            if record.expires_at <= now:
                old.store.delete(record_id)
                counts.expired += 1
                continue
            try:
                data = ({key: new_serializer.dumps(old_serializer.loads(text)) for key, text in record.data.items()}
                        if reserialize else record.data)
                user_id = _lifecycle.decode_meta(record.meta).user_id
            except (TypeError, ValueError):
                counts.refused += 1
                continue
            _move(old.store, new.store, record_id, dataclasses.replace(record, data=data), user_id)
            counts.moved += 1
        if progress is not None:
            progress(counts)
    return counts


def _move(old: Store, new: Store, record_id: str, record: Record, user_id: str | None) -> None:
    """Write the copy, then take the original; if a request moved it meanwhile, the copy goes too."""
    new.save(record_id, Change(record.data, replace=True, meta=record.meta, expires_at=record.expires_at,
                               create=True, user_id=user_id))
    if isinstance(old, Retires):
        taken = old.retire(record_id)
    else:
        taken = old.load(record_id) is not None
        old.delete(record_id)
    if not taken:
        new.delete(record_id)


def _check_pair(source: Settings, target: Settings) -> None:
    if source.engine not in LISTED_ENGINES:
        raise ConfigurationError([SettingProblem(
            "SESSION_ENGINE", "an engine whose records `wsgisession migrate --from` can list: "
            f"{', '.join(LISTED_ENGINES)} (others move at each request with SESSION_MIGRATE_FROM)",
            repr(source.engine))])
    if source.secret_key not in (target.secret_key, *target.secret_key_fallbacks):
        raise ConfigurationError([SettingProblem(
            "SECRET_KEY_FALLBACKS", "the old engine's SECRET_KEY among the new SECRET_KEY and its fallbacks (records"
            " keep their ids, so the browsers' cookies must still verify)", "no such key")])


def _record_ids(settings: Settings, backend: StoreBackend, batch_size: int) -> Iterator[list[str]]:
    if settings.engine == "redis":
        yield from _redis_ids(backend, batch_size)
    else:
        yield from _sql_ids(settings, batch_size)


def _sql_ids(settings: Settings, batch_size: int) -> Iterator[list[str]]:
    engine = sa.create_engine(engine_url(settings.db_url))
    column = sa.table(settings.db_table, sa.column("session_key")).c.session_key
    after = ""
    try:
        while True:
            with engine.connect() as connection:
                batch = list(connection.execute(
                    sa.select(column).where(column > after).order_by(column).limit(batch_size)).scalars())
            if not batch:
                return
            yield [record_id for record_id in batch if RECORD_ID_PATTERN.fullmatch(record_id)]
            after = batch[-1]
    finally:
        engine.dispose()


def _redis_ids(backend: StoreBackend, batch_size: int) -> Iterator[list[str]]:
    store = backend.store
    prefix = f"{getattr(store, 'prefix', 'session')}:{{"
    batch: list[str] = []
    for key in getattr(store, "client").scan_iter(match=_glob_escape(prefix) + "*", count=batch_size):  # noqa: B009
        record_id = key[len(prefix):-1] if key.endswith("}") else ""
        if RECORD_ID_PATTERN.fullmatch(record_id):
            batch.append(record_id)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _glob_escape(text: str) -> str:
    """``text`` matched literally by a Redis glob pattern."""
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)
