"""A process-local store: fast, thread-safe, gone when the process exits.

Each gunicorn worker has its own copy, so a user whose requests land on another
worker gets another session: use it with one worker, in tests, or as the local
layer of something else, not behind a multi-worker server.
"""

from __future__ import annotations

import threading
import time

from .base import Change, Record

#: Expired records are swept after this many saves.
SWEEP_EVERY = 1000


class MemoryStore:
    """Records in a dict guarded by a lock; expired ones swept every :data:`SWEEP_EVERY` saves."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        self._lock = threading.Lock()
        self._saves = 0

    def load(self, record_id: str) -> Record | None:
        return self._records.get(record_id)

    def save(self, record_id: str, change: Change) -> bool:
        with self._lock:
            current = self._records.get(record_id)
            if current is None and not change.create:
                return False
            base = current.data if current is not None else {}
            version = current.version + 1 if current is not None else 1
            self._records[record_id] = Record(change.apply_to(base), change.meta, change.expires_at, version)
            self._saves += 1
            if self._saves % SWEEP_EVERY == 0:
                self._sweep(time.time())
        return True

    def delete(self, record_id: str) -> None:
        with self._lock:
            self._records.pop(record_id, None)

    def clear_expired(self, now: float) -> int:
        with self._lock:
            return self._sweep(now)

    def _sweep(self, now: float) -> int:
        dead = [record_id for record_id, record in self._records.items() if record.expires_at < now]
        for record_id in dead:
            del self._records[record_id]
        return len(dead)
