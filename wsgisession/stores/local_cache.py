"""cached_db's cache for ``SESSION_CACHE_URL = "memory://"``: copies a process trusts only briefly.

With ``memory://`` each worker process has a cache of its own, so a logout (or
``cycle_key``, or ``delete_user_sessions``) on one worker cannot reach the copies the
other workers hold. Here a copy is served for at most :data:`LOCAL_COPY_TTL` seconds
after the database last confirmed it; after that it counts as a miss, and ``cached_db``
reads the database again (and trusts what it read for as long again). So a session
deleted on one worker is refused by every other worker within that bound, and the
cache holds only the sessions used in the last few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from .base import Record, Tombstone

#: Seconds a worker serves a session from its own memory before asking the database again:
#: the longest a logout on another worker goes unseen by this one.
LOCAL_COPY_TTL = 2.0
#: Copies no longer trusted, and lapsed tombstones, are swept after this many fills.
SWEEP_EVERY = 1000


class LocalCache:
    """Short-lived copies of database records, and tombstones, in a dict; thread-safe.

    It is a :class:`~.base.CachesRecords` (the cache of ``cached_db``), not a store:
    ``clock`` (monotonic by default; tests pass their own) times the trust and the tombstones.
    """

    def __init__(self, ttl: float = LOCAL_COPY_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._copies: dict[str, tuple[Record, float]] = {}  # record id -> (record, trusted until)
        self._tombstones: dict[str, float] = {}  # record id -> end
        self._lock = threading.Lock()
        self._fills = 0

    def load_cached(self, record_id: str) -> Record | Literal[Tombstone.GONE] | None:
        now = self.clock()
        copy = self._copies.get(record_id)
        if copy is not None:
            record, trusted_until = copy
            return record if trusted_until > now and record.expires_at > time.time() else None
        end = self._tombstones.get(record_id)
        return Tombstone.GONE if end is not None and end > now else None

    def store_record(self, record_id: str, record: Record) -> None:
        """Keep ``record`` (the database's) and trust it for :attr:`ttl` seconds, unless buried or older."""
        with self._lock:
            now = self.clock()
            if self._tombstones.get(record_id, now) > now:
                return  # deleted moments ago: a slow reader must not bring it back
            copy = self._copies.get(record_id)
            if copy is not None and copy[0].version > record.version:
                return
            if copy is None or copy[0].version < record.version:
                copy = (replace(record, data=dict(record.data)), 0.0)  # the caller keeps its dict
            self._copies[record_id] = (copy[0], now + self.ttl)  # the same version: confirmed again
            self._fills += 1
            if self._fills % SWEEP_EVERY == 0:
                self._sweep(now)

    def bury(self, record_id: str, ttl: float) -> None:
        with self._lock:
            self._copies.pop(record_id, None)
            self._tombstones[record_id] = self.clock() + ttl

    def touch(self, record_id: str, expires_at: float) -> bool:
        """Move the copy's expiry (its trust stays as it was); False if there is no copy."""
        with self._lock:
            copy = self._copies.get(record_id)
            if copy is None:
                return False
            self._copies[record_id] = (replace(copy[0], expires_at=expires_at), copy[1])
            return True

    def _sweep(self, now: float) -> None:
        self._copies = {key: copy for key, copy in self._copies.items() if copy[1] > now}
        self._tombstones = {key: end for key, end in self._tombstones.items() if end > now}
