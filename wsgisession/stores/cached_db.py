"""The ``cached_db`` engine: the database keeps sessions, a cache in front serves reads.

Use it when sessions must survive a cache restart or eviction, but most reads
should not touch the database. The database (``SESSION_DB_URL``) is the source of
truth; the cache (``SESSION_CACHE_URL``) is write-through: every save goes to the
database first, then to the cache. Reads go to the cache only and fall back to the
database on a miss, putting what they found back in the cache. Hence a change made
to the database behind this store's back (a script, another application) is not
seen until the cache entry expires or is deleted.

Use a shared cache (``redis://``) when more than one process serves the
application. With ``memory://`` each process has its own cache, which goes stale
as soon as another process saves the same session: fine for one process only.

The cache copy is only ever *created* from a whole record (a new session, a
``clear()``, a copy read from the database). A partial change to a session the
cache does not hold is written to the database only; the next read repopulates
the cache.

Versions: the cache counts its own saves, so its version says nothing about the
database's, and a cache copy can lag behind the database (see the races below)
while its count happens to equal the database's. A database trusting such a
version in its guarded write (``UPDATE … WHERE version = :loaded``) would write a
stale base and drop keys other requests saved. So a cache hit reports version
``0`` ("unknown"), and a save carrying version ``0`` reaches the database without
``base``/``version``: the database re-reads the record and merges (one more
statement than a guarded write). A record read from the database keeps the
database's version, passed back unchanged. The cache never receives
``base``/``version``.

Known races between cache and database, left for a later change to fix:

* **A delete undone by a reader.** A request misses the cache and reads the
  record from the database; meanwhile a logout deletes it from both; the first
  request then puts the record back in the cache. The logged-out session stays
  readable from the cache until it expires or a save of it (which finds the
  database record gone) deletes the cache copy.
* **A stale copy put back by a reader.** Same window, with a save instead of a
  delete: the save reached the database while the cache held no copy, then the
  reader caches the older record. Reads see the old values, and later saves merge
  onto that stale copy, until the entry expires or the session is replaced. The
  database keeps the right data.
* **Saves reordered.** Two concurrent saves of the same key may reach the
  database in one order and the cache in the other, so the two disagree on
  that key's value. Saves of different keys merge in both.
* **Half-done writes.** If the cache fails after the database was written
  (``save``) or deleted (``delete``), the call raises :class:`StoreError` and the
  cache keeps the old copy until it expires.
* **Stale cache, no database change.** Nothing invalidates a cache entry when
  the database alone is changed (see above).

Errors: a failure of either store raises :class:`StoreError`; this store does not
yet degrade to database-only when the cache is down.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Protocol

from .base import Change, PurgesExpired, Record, Store
from .cache import open_cache

if TYPE_CHECKING:
    from ..settings import Settings


#: The version a cache hit reports: the database's version of that record is not known.
UNKNOWN_VERSION = 0


class DatabaseStore(Store, PurgesExpired, Protocol):
    """What :class:`CachedDbStore` needs of its database: a store that purges expired records."""


class CachedDbStore:
    """``db`` as the source of truth behind the write-through ``cache``; thread-safe if both are."""

    def __init__(self, cache: Store, db: DatabaseStore) -> None:
        self.cache = cache
        self.db = db

    @classmethod
    def from_settings(cls, settings: Settings) -> CachedDbStore:
        """The cache ``SESSION_CACHE_URL`` names in front of the SQL store of ``SESSION_DB_URL``."""
        # Imported here: SQLAlchemy is loaded only by engines that use it.
        from .sql import SqlStore

        return cls(open_cache(settings), SqlStore.from_settings(settings))

    def load(self, record_id: str) -> Record | None:
        record = self.cache.load(record_id)
        if record is not None:
            return dataclasses.replace(record, version=UNKNOWN_VERSION)
        record = self.db.load(record_id)
        if record is not None and record.expires_at > time.time():
            self.cache.save(record_id, Change(set=record.data, replace=True, create=True, meta=record.meta,
                                              expires_at=record.expires_at))
        return record

    def save(self, record_id: str, change: Change) -> bool:
        if change.version == UNKNOWN_VERSION:
            change = dataclasses.replace(change, base=None, version=None)
        if not self.db.save(record_id, change):
            self.cache.delete(record_id)
            return False
        # Only a whole record may create the cache copy: a partial change applied to
        # a missing copy would leave the cache holding just the changed keys.
        self.cache.save(record_id, dataclasses.replace(change, create=change.replace, base=None, version=None))
        return True

    def delete(self, record_id: str) -> None:
        self.db.delete(record_id)
        self.cache.delete(record_id)

    def clear_expired(self, now: float) -> int:
        """Purge the database (and the cache, if it keeps expired entries); return the database's count."""
        removed = self.db.clear_expired(now)
        if isinstance(self.cache, PurgesExpired):
            self.cache.clear_expired(now)
        return removed
