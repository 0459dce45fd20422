"""The ``cached_db`` engine: the database keeps sessions, a cache in front serves reads.

Use it when sessions must survive a cache restart or eviction, but most reads
should not touch the database. The database (``SESSION_DB_URL``) is the source of
truth; the cache (``SESSION_CACHE_URL``) is write-through: every save goes to the
database first, then the record as the database now holds it goes to the cache.
Reads go to the cache and fall back to the database on a miss, caching what they
found. A change made to the database behind this store's back (a script, another
application) is not seen until the cache entry expires.

Use a shared cache (``redis://``) when more than one process serves the
application. With ``memory://`` each process has its own cache (see
:mod:`.local_cache`): a copy is served for at most
:data:`~.local_cache.LOCAL_COPY_TTL` seconds, then read from the database again, so
a save or a logout on another process is seen within that bound.

How cache and database stay consistent (see :class:`~.base.CachesRecords`):

* Cached copies carry the database's version and a cache keeps only newer
  versions, so a slow reader can never put back an older copy than a concurrent
  save cached, and saves reaching the cache out of order cannot disagree with the
  database.
* A delete (logout, ``cycle_key``, ``delete_user_sessions``) first leaves a
  tombstone in the cache for :data:`TOMBSTONE_TTL` seconds, then deletes the row, so
  a reader that fetched the record from the database just before the delete cannot
  bring it back. When the cache cannot take the tombstone, the delete raises
  :class:`StoreError` and deletes nothing (the logout fails visibly, the user tries
  again): a row deleted with a live copy left in the cache would be served from there.
* A cache hit hands the database's version to the next save, so the database's
  guarded ``UPDATE … WHERE version`` stays exact.

When the cache is down, the store degrades to the database alone (deletes aside, see
above), with a warning logged at most once per burst: reads and writes go to the database, nothing is lost,
and a session written during the outage is read from the database (not from the
cache, which may still hold an older copy) until this process refreshed the cache.
Another process that did not see the outage may read that older cached copy once the
cache is back, until the session is saved again; its next save still merges onto the
database's record (the version guard), so no write is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ..checks import CheckResult, check_store
from ..errors import StoreError
from ..events import BurstLog
from .base import (
    CachesRecords,
    Change,
    CorruptRecord,
    IndexesUsers,
    Locks,
    PurgesExpired,
    Record,
    Retires,
    Store,
    Tombstone,
    Touches,
)
from .cache import open_cache
from .local_cache import LocalCache
from .memory import max_entries_of

if TYPE_CHECKING:
    from ..settings import Settings

#: Seconds a deleted session stays marked as deleted in the cache: longer than any
#: request takes between reading the database and filling the cache.
TOMBSTONE_TTL = 60.0


class DatabaseStore(Store, Retires, Touches, Locks, IndexesUsers, PurgesExpired, Protocol):
    """What :class:`CachedDbStore` needs of its database (the SQL store has it all)."""

    def save_returning(self, record_id: str, change: Change) -> Record | None:
        """Like ``save``, returning the record as now stored (None where ``save`` returns False)."""
        ...


class CacheStore(Touches, CachesRecords, Protocol):
    """What :class:`CachedDbStore` needs of its cache (the Redis, memcached and local caches have it)."""


class CachedDbStore:
    """``db`` as the source of truth behind the write-through ``cache``; thread-safe if both are.

    Session locks (``SESSION_LOCKING``) are the database's.
    """

    def __init__(self, cache: CacheStore, db: DatabaseStore) -> None:
        self.cache = cache
        self.db = db
        # Records written while the cache was failing: read from the database until refreshed.
        self._suspect: set[str] = set()
        self._suspect_lock = threading.Lock()
        self._outage = BurstLog("wsgisession", logging.WARNING)

    @classmethod
    def from_settings(cls, settings: Settings) -> CachedDbStore:
        """The cache ``SESSION_CACHE_URL`` names in front of the SQL store of ``SESSION_DB_URL``.

        ``memory://`` gives each process a :class:`~.local_cache.LocalCache`, whose copies
        are re-read from the database after :data:`~.local_cache.LOCAL_COPY_TTL` seconds.
        """
        # Imported here: SQLAlchemy is loaded only by engines that use it.
        from .sql import SqlStore

        if settings.cache_url.lower().startswith("memory://"):
            max_entries_of(settings.cache_url)  # the same URLs as the cache engine's: copies live 2 s, so no count
            cache: object = LocalCache()
        else:
            cache = open_cache(settings)
        if not isinstance(cache, CachesRecords) or not isinstance(cache, Touches):
            raise TypeError(f"{type(cache).__name__} cannot be the cache of cached_db")
        return cls(cache, SqlStore.from_settings(settings))

    def check(self) -> list[CheckResult]:
        """The database's checks, then the cache's (``database connect``, ``cache connect``…)."""
        return [CheckResult(f"{part} {result.name}", result.ok, result.message, result.setting)
                for part, checked in (("database", self.db), ("cache", self.cache))
                for result in check_store(checked)]

    def load(self, record_id: str) -> Record | None:
        if record_id not in self._suspect:
            cached = self._cached(record_id)
            if cached is Tombstone.GONE:
                return None
            if cached is not None:
                return cached
        record = self.db.load(record_id)
        if record is None and record_id in self._suspect:  # deleted during an outage: tell the cache now
            self._to_cache(record_id, self.cache.bury, record_id, TOMBSTONE_TTL)
        elif record is not None and record.expires_at > time.time():
            self._to_cache(record_id, self.cache.store_record, record_id, record)
        return record

    def save(self, record_id: str, change: Change) -> bool:
        record = self.db.save_returning(record_id, change)
        if record is None:
            self._to_cache(record_id, self.cache.bury, record_id, TOMBSTONE_TTL)
            return False
        self._to_cache(record_id, self.cache.store_record, record_id, record)
        return True

    def touch(self, record_id: str, expires_at: float) -> bool:
        if not self.db.touch(record_id, expires_at):
            return False
        # A miss is fine: the next read caches the database's copy.
        self._to_cache(record_id, self.cache.touch, record_id, expires_at)
        return True

    def delete(self, record_id: str) -> None:
        self.retire(record_id)

    def retire(self, record_id: str) -> bool:
        """Bury the cached copy, then delete the row; StoreError, with nothing deleted, if the burial fails."""
        self._bury(record_id)
        return self.db.retire(record_id)

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        return self.db.acquire(record_id, lease, wait)

    def release(self, record_id: str, token: str) -> None:
        self.db.release(record_id, token)

    def user_sessions(self, user_id: str) -> list[str]:
        return self.db.user_sessions(user_id)

    def delete_user_sessions(self, user_id: str, except_record_id: str | None = None) -> int:
        """Bury, then delete, the user's live sessions but ``except_record_id``'s; return how many.

        Rows are deleted one by one, only those buried: a session the user starts meanwhile
        stays (it came after), and none is deleted with a live copy left in the cache.
        """
        doomed = [record_id for record_id in self.db.user_sessions(user_id) if record_id != except_record_id]
        for record_id in doomed:
            self._bury(record_id)
        return sum(self.db.retire(record_id) for record_id in doomed)

    def _cached(self, record_id: str) -> Record | Tombstone | None:
        """The cache's copy; a miss when the cache fails or holds something unreadable."""
        try:
            return self.cache.load_cached(record_id)
        except CorruptRecord:
            return None
        except StoreError as exc:
            self._outage.emit(f"{exc}; reading from the database")
            return None

    def _bury(self, record_id: str) -> None:
        """Leave the tombstone a delete needs before the row goes; StoreError if the cache cannot take it."""
        self.cache.bury(record_id, TOMBSTONE_TTL)
        if record_id in self._suspect:
            with self._suspect_lock:
                self._suspect.discard(record_id)

    def _to_cache(self, record_id: str, write: Callable[..., object], *args: object) -> None:
        """Bring the cache in line with the database; when it fails, remember to bypass it."""
        try:
            write(*args)
        except StoreError as exc:
            self._outage.emit(f"{exc}; the database alone keeps sessions until the cache is back")
            with self._suspect_lock:
                self._suspect.add(record_id)
            return
        if record_id in self._suspect:
            with self._suspect_lock:
                self._suspect.discard(record_id)

    def clear_expired(self, now: float) -> int:
        """Purge the database (and the cache, if it keeps expired entries); return the database's count."""
        removed = self.db.clear_expired(now)
        if isinstance(self.cache, PurgesExpired):
            self.cache.clear_expired(now)
        return removed
