"""``wsgisession migrate``: move every session of the engine being left ahead of time, in batches.

Run it once the application serves with ``SESSION_MIGRATE_FROM`` (the old application no
longer writes): each session is written to the new store under the id of its old cookie,
then deleted from the old store. The first request carrying that cookie finds the copy and
moves it under a fresh key, as it would have moved the original. Stopping half way loses
nothing and running it again carries on: a copy is written before its original is deleted,
and writing it again is harmless.
"""

from __future__ import annotations

import dataclasses

from .. import _lifecycle
from ..backends.server_side import StoreBackend
from ..engines import build_serializer
from ..settings import Settings
from ..stores.base import Change
from . import OLD_KEY_PREFIX
from ._run import Moved as Moved  # public here too, as are Progress and server_side
from ._run import Progress as Progress
from ._run import server_side as server_side
from .django import DjangoDbSessions, DjangoRow

DJANGO_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")
#: Rows read per batch by default.
BATCH_SIZE = 500


def migrate(source: Settings, target: Settings, now: float, batch_size: int = BATCH_SIZE,
            progress: Progress | None = None) -> Moved:
    """Move every session ``source`` (the old engine's settings) holds into ``target``'s store.

    Django's table, or a wsgisession ``db``, ``cached_db`` or ``redis`` store (see :mod:`.records`).

    ``progress`` is called with the counts after each batch. Raises ConfigurationError for
    a pair this command cannot move, StoreError when a store fails (run it again).
    """
    if source.engine not in DJANGO_ENGINES:
        from .records import migrate_records

        return migrate_records(source, target, now, batch_size, progress)
    new = server_side(dataclasses.replace(target, migrate_from=None), "--to")
    old = DjangoDbSessions.from_settings(source, build_serializer(target))
    counts = Moved()
    try:
        for batch in old.rows(batch_size):
            for row in batch:
                _move_one(old, new, row, now, counts)
            if progress is not None:
                progress(counts)
    finally:
        old.close()
    return counts


def _move_one(old: DjangoDbSessions, new: StoreBackend, row: DjangoRow, now: float, counts: Moved) -> None:
    if row.expires_at <= now:
        old.delete(row.key)
        counts.expired += 1
        return
    try:
        loaded = old.decode(row, now)
    except (ValueError, TypeError):
        counts.refused += 1
        return
    meta = _lifecycle.encode_meta(loaded.expiry, loaded.created_at, None)
    change = Change(loaded.data, replace=True, meta=meta, expires_at=loaded.expires_at, create=True)
    new.store.save(_lifecycle.record_id(OLD_KEY_PREFIX + row.key), change)
    old.delete(row.key)
    counts.moved += 1
