"""A process-local store: fast, thread-safe, gone when the process exits.

Each gunicorn worker has its own copy, so a user whose requests land on another
worker gets another session: use it with one worker, in tests, or as the local
layer of something else, not behind a multi-worker server. It holds at most
``max_entries`` sessions (``memory://?max_entries=N``): past that, the least recently
saved are evicted, which for the ``cache`` engine logs their users out.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from ..checks import CheckResult, passed
from ..errors import ConfigurationError, LockLostError, LockTimeoutError, SettingProblem, mask_value
from .base import Change, Record, Tombstone

#: Expired records are swept after this many saves.
SWEEP_EVERY = 1000
#: ... and at most once per this many seconds, since a sweep reads every record.
SWEEP_INTERVAL = 60.0
#: Sessions kept at most when ``memory://`` says nothing else: tens of MB for sessions of a few KB.
DEFAULT_MAX_ENTRIES = 10_000

_COUNT = re.compile(r"[1-9][0-9]{0,9}")


def max_entries_of(url: str) -> int:
    """N of ``memory://?max_entries=N`` (the default for a bare ``memory://``); ConfigurationError otherwise."""
    query = urlsplit(url).query
    if not query:
        return DEFAULT_MAX_ENTRIES
    pairs = parse_qsl(query, keep_blank_values=True)
    if len(pairs) == 1 and pairs[0][0] == "max_entries" and _COUNT.fullmatch(pairs[0][1]):
        return int(pairs[0][1])
    raise ConfigurationError([SettingProblem(
        "SESSION_CACHE_URL", f"memory:// or memory://?max_entries=N (N > 0; {DEFAULT_MAX_ENTRIES} by default)",
        mask_value(url))])


class MemoryStore:
    """Records in a dict guarded by a lock; expired ones swept every :data:`SWEEP_EVERY` saves
    (at most once per :data:`SWEEP_INTERVAL`); past ``max_entries`` records, the least recently
    saved or touched is evicted. The per-user index forgets every record that goes.

    Session locks (``SESSION_LOCKING``) are leases kept beside the records; waiters
    sleep on a condition until the holder releases or the lease runs out.

    As a cache (:class:`~.base.CachesRecords`), :meth:`bury` drops the record and
    keeps a tombstone beside the records; the record methods do not see it (they
    find no record), and a record a later ``save`` creates wins over it.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._records: dict[str, Record] = {}  # a plain dict: an OrderedDict lookup costs more
        self._recency: OrderedDict[str, None] = OrderedDict()  # record ids, the least recently saved first
        self._max_entries = max_entries
        self._leases: dict[str, tuple[str, float]] = {}  # record id -> (token, monotonic deadline)
        self._users: dict[str, set[str]] = {}  # user id -> record ids (of records not yet deleted)
        self._owners: dict[str, str] = {}  # record id -> user id: the index, read the other way
        # Entered as the plain lock where nobody waits: a Condition's with-block runs Python code.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._saves = 0
        self._next_sweep = 0.0
        self._tombstones: dict[str, float] = {}  # record id -> monotonic deadline
        self._burials = 0

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        """The store ``memory://`` or ``memory://?max_entries=N`` asks for; ConfigurationError otherwise."""
        return cls(max_entries_of(url))

    def check(self) -> list[CheckResult]:
        """Nothing to connect to: one result saying where the sessions live."""
        return [passed("memory", f"sessions live in each worker process (at most {self._max_entries:,});"
                                 " use it with one worker only")]

    def load(self, record_id: str) -> Record | None:
        return self._records.get(record_id)

    def save(self, record_id: str, change: Change) -> bool:
        with self._lock:
            if change.lock_token is not None and not self._holds(record_id, change.lock_token):
                raise LockLostError("memory")
            current = self._records.get(record_id)
            if current is None and not change.create:
                return False
            base = current.data if current is not None else {}
            version = current.version + 1 if current is not None else 1
            self._put(record_id, Record(change.apply_to(base), change.meta, change.expires_at, version))
            if change.user_id is not None:
                self._index(record_id, change.user_id)
            self._saves += 1
            if self._saves % SWEEP_EVERY == 0 and time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + SWEEP_INTERVAL
                self._sweep(time.time())
        return True

    def touch(self, record_id: str, expires_at: float) -> bool:
        with self._lock:
            current = self._records.get(record_id)
            if current is None:
                return False
            self._put(record_id, replace(current, expires_at=expires_at))
        return True

    def delete(self, record_id: str) -> None:
        self.retire(record_id)

    def retire(self, record_id: str) -> bool:
        with self._lock:
            return self._forget(record_id)

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        deadline = time.monotonic() + wait
        with self._changed:
            while True:
                if record_id not in self._records:
                    return None
                now = time.monotonic()
                holder = self._leases.get(record_id)
                if holder is None or holder[1] <= now:
                    token = secrets.token_hex(16)
                    self._leases[record_id] = (token, now + lease)
                    return token
                if now >= deadline:
                    raise LockTimeoutError("memory", wait)
                self._changed.wait(min(deadline, holder[1]) - now)

    def release(self, record_id: str, token: str) -> None:
        with self._changed:
            if self._holds(record_id, token):
                del self._leases[record_id]
                self._changed.notify_all()

    def load_cached(self, record_id: str) -> Record | Literal[Tombstone.GONE] | None:
        with self._lock:
            record = self._records.get(record_id)
            if record is not None and record.expires_at > time.time():
                return record
            return Tombstone.GONE if record is None and self._buried(record_id) else None

    def store_record(self, record_id: str, record: Record) -> None:
        with self._lock:
            current = self._records.get(record_id)
            if current is not None and current.expires_at <= time.time():
                current = None
            if current is None and self._buried(record_id):
                return
            if current is None or current.version < record.version:
                self._put(record_id, replace(record, data=dict(record.data)))  # the caller keeps its dict

    def bury(self, record_id: str, ttl: float) -> None:
        with self._lock:
            self._forget(record_id)
            self._tombstones[record_id] = time.monotonic() + ttl
            self._burials += 1
            if self._burials % SWEEP_EVERY == 0:
                now = time.monotonic()
                self._tombstones = {key: end for key, end in self._tombstones.items() if end > now}

    def user_sessions(self, user_id: str) -> list[str]:
        now = time.time()
        with self._lock:
            ids = self._users.get(user_id, set())
            return sorted(i for i in ids if (r := self._records.get(i)) is not None and r.expires_at > now)

    def delete_user_sessions(self, user_id: str, except_record_id: str | None = None) -> int:
        with self._lock:
            doomed = [record_id for record_id in self._users.get(user_id, ()) if record_id != except_record_id]
            for record_id in doomed:
                self._leases.pop(record_id, None)
            return sum(self._forget(record_id) for record_id in doomed)

    def clear_expired(self, now: float) -> int:
        with self._lock:
            return self._sweep(now)

    def _holds(self, record_id: str, token: str) -> bool:
        holder = self._leases.get(record_id)
        return holder is not None and holder[0] == token and holder[1] > time.monotonic()

    def _buried(self, record_id: str) -> bool:
        deadline = self._tombstones.get(record_id)
        if deadline is not None and deadline <= time.monotonic():
            del self._tombstones[record_id]
            return False
        return deadline is not None

    def _sweep(self, now: float) -> int:
        dead = [record_id for record_id, record in self._records.items() if record.expires_at < now]
        for record_id in dead:
            self._forget(record_id)
            self._leases.pop(record_id, None)
        return len(dead)

    # The helpers below are called with the lock held.

    def _put(self, record_id: str, record: Record) -> None:
        """Store ``record`` as the most recent; evict the least recent past ``max_entries``.

        A lease on an evicted record is left to its holder to release: its save then finds
        no record and is dropped, as after a logout.
        """
        self._records[record_id] = record
        self._recency[record_id] = None
        self._recency.move_to_end(record_id)
        while len(self._recency) > self._max_entries:
            self._forget(self._recency.popitem(last=False)[0])

    def _forget(self, record_id: str) -> bool:
        """Drop the record and its index entry; True if there was a record."""
        self._unindex(record_id)
        self._recency.pop(record_id, None)
        return self._records.pop(record_id, None) is not None

    def _index(self, record_id: str, user_id: str) -> None:
        if self._owners.get(record_id) != user_id:
            self._unindex(record_id)
            self._owners[record_id] = user_id
            self._users.setdefault(user_id, set()).add(record_id)

    def _unindex(self, record_id: str) -> None:
        user_id = self._owners.pop(record_id, None)
        if user_id is not None:
            ids = self._users[user_id]
            ids.discard(record_id)
            if not ids:
                del self._users[user_id]
