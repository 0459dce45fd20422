"""The ``cached_db`` engine: the database keeps sessions, a cache in front serves reads.

Use it when sessions must survive a cache restart or eviction, but most reads
should not touch the database. The database (``SESSION_DB_URL``) is the source of
truth; the cache (``SESSION_CACHE_URL``) is write-through: every save goes to the
database first, then the record as the database now holds it goes to the cache.
Reads go to the cache and fall back to the database on a miss, caching what they
found. A change made to the database behind this store's back (a script, another
application) is not seen until the cache entry expires.

Use a shared cache (``redis://``) when more than one process serves the
application; with ``memory://`` each process has its own cache, which goes stale
as soon as another process saves the same session.

How cache and database stay consistent (see :class:`~.base.CachesRecords`):

* Cached copies carry the database's version and a cache keeps only newer
  versions, so a slow reader can never put back an older copy than a concurrent
  save cached, and saves reaching the cache out of order cannot disagree with the
  database.
* A delete (logout, ``cycle_key``) leaves a tombstone in the cache for
  :data:`TOMBSTONE_TTL` seconds, so a reader that fetched the record from the
  database just before the delete cannot bring it back.
* A cache hit hands the database's version to the next save, so the database's
  guarded ``UPDATE … WHERE version`` stays exact.

What is left: if the cache fails after the database was written, the call raises
:class:`~wsgisession.errors.StoreError` and the cache may serve the older copy
until the next save of that session or its expiry.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from .base import (
    CachesRecords,
    Change,
    CorruptRecord,
    IndexesUsers,
    Locks,
    PurgesExpired,
    Record,
    Store,
    Tombstone,
    Touches,
)
from .cache import open_cache

if TYPE_CHECKING:
    from ..settings import Settings

#: Seconds a deleted session stays marked as deleted in the cache: longer than any
#: request takes between reading the database and filling the cache.
TOMBSTONE_TTL = 60.0


class DatabaseStore(Store, Touches, Locks, IndexesUsers, PurgesExpired, Protocol):
    """What :class:`CachedDbStore` needs of its database (the SQL store has it all)."""

    def save_returning(self, record_id: str, change: Change) -> Record | None:
        """Like ``save``, returning the record as now stored (None where ``save`` returns False)."""
        ...


class CacheStore(Store, Touches, CachesRecords, Protocol):
    """What :class:`CachedDbStore` needs of its cache (the memory and Redis stores have it)."""


class CachedDbStore:
    """``db`` as the source of truth behind the write-through ``cache``; thread-safe if both are.

    Session locks (``SESSION_LOCKING``) are the database's.
    """

    def __init__(self, cache: CacheStore, db: DatabaseStore) -> None:
        self.cache = cache
        self.db = db

    @classmethod
    def from_settings(cls, settings: Settings) -> CachedDbStore:
        """The cache ``SESSION_CACHE_URL`` names in front of the SQL store of ``SESSION_DB_URL``."""
        # Imported here: SQLAlchemy is loaded only by engines that use it.
        from .sql import SqlStore

        cache = open_cache(settings)
        if not isinstance(cache, CachesRecords):
            raise TypeError(f"{type(cache).__name__} cannot be the cache of cached_db")
        return cls(cache, SqlStore.from_settings(settings))  # type: ignore[arg-type]  # checked above

    def load(self, record_id: str) -> Record | None:
        try:
            cached = self.cache.load_cached(record_id)
        except CorruptRecord:  # an unreadable cache entry is a miss: the database has the session
            cached = None
        if cached is Tombstone.GONE:
            return None
        if cached is not None:
            return cached
        record = self.db.load(record_id)
        if record is not None and record.expires_at > time.time():
            self.cache.store_record(record_id, record)
        return record

    def save(self, record_id: str, change: Change) -> bool:
        record = self.db.save_returning(record_id, change)
        if record is None:
            self.cache.bury(record_id, TOMBSTONE_TTL)
            return False
        self.cache.store_record(record_id, record)
        return True

    def touch(self, record_id: str, expires_at: float) -> bool:
        if not self.db.touch(record_id, expires_at):
            return False
        self.cache.touch(record_id, expires_at)  # a miss is fine: the next read caches the database's copy
        return True

    def delete(self, record_id: str) -> None:
        self.db.delete(record_id)
        self.cache.bury(record_id, TOMBSTONE_TTL)

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        return self.db.acquire(record_id, lease, wait)

    def release(self, record_id: str, token: str) -> None:
        self.db.release(record_id, token)

    def user_sessions(self, user_id: str) -> list[str]:
        return self.db.user_sessions(user_id)

    def delete_user_sessions(self, user_id: str, except_record_id: str | None = None) -> int:
        doomed = [record_id for record_id in self.db.user_sessions(user_id) if record_id != except_record_id]
        deleted = self.db.delete_user_sessions(user_id, except_record_id)
        for record_id in doomed:
            self.cache.bury(record_id, TOMBSTONE_TTL)
        return deleted

    def clear_expired(self, now: float) -> int:
        """Purge the database (and the cache, if it keeps expired entries); return the database's count."""
        removed = self.db.clear_expired(now)
        if isinstance(self.cache, PurgesExpired):
            self.cache.clear_expired(now)
        return removed
