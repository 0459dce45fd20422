"""The memcached cache: sessions as JSON values in memcached (``SESSION_CACHE_URL=memcached://host:port``).

Use it as the store of the ``cache`` engine, or as the cache of ``cached_db``, when
several processes serve the application and a memcached is at hand. Alone
(``cache``), use it only if losing a session now and then is acceptable: memcached
evicts under memory pressure and forgets everything when it restarts. Nothing needs
purging: memcached drops an item when it expires.

Keys carry ``SESSION_REDIS_PREFIX``, the prefix the Redis caches use too (the values
are encoded and decoded in :mod:`._values`):

* ``f"{prefix}:{record_id}"``: the record, one JSON value ``{"m": meta, "e":
  expires_at, "v": version, "d": {key: value}}`` that memcached expires at
  ``expires_at``. Every change is a ``gets`` then a ``cas`` (or an ``add``), tried
  again when another writer came in between, so concurrent saves merge.
* A tombstone (:meth:`MemcachedStore.bury`, for ``cached_db``) replaces the record
  under the same key as ``{"g": deadline}``; a record created over a live tombstone
  keeps its ``"g"``, and ``delete`` turns it back into the tombstone. One key for both
  keeps each cache operation one compare-and-swap (memcached cannot change two keys
  at once). Only ``load_cached`` and ``store_record`` see a tombstone.
* ``…:lock``: the session lock, ``"token deadline"``.

memcached counts expiry in whole seconds on its own clock: items get a second more
than they need, and the deadlines written in values (locks, tombstones, cached
copies) are what count, checked against ``time.time()``, so the servers sharing a
memcached need synchronized clocks (NTP).
"""

from __future__ import annotations

import functools
import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pymemcache.client.base import PooledClient  # type: ignore[import-untyped]
from pymemcache.exceptions import MemcacheError  # type: ignore[import-untyped]

from ...errors import ConfigurationError, LockLostError, SettingProblem, StoreError, mask_value
from .._backoff import FIRST_PAUSE, LONGEST_PAUSE, LockWait
from .._errors import StoreErrors
from ..base import CorruptRecord, Record, Tombstone
from . import _checks
from ._values import (
    DROP,
    Entry,
    Write,
    decode,
    decode_or_none,
    encode,
    encode_tombstone,
    lock_holder,
    lock_value,
    tombstone_deadline,
)
from ._values import MAX_RELATIVE_EXPIRY as MAX_RELATIVE_EXPIRY  # public here too, as is exptime
from ._values import exptime as exptime

if TYPE_CHECKING:
    from ...checks import CheckResult
    from ...settings import Settings
    from ..base import Change

#: The port of a ``memcached://host`` URL that names none.
DEFAULT_PORT = 11211
#: Seconds to wait for a TCP connection, and for the reply to a command.
CONNECT_TIMEOUT, IO_TIMEOUT = 1.0, 2.0
#: How many times a change is tried before other writers' changes make it give up.
CAS_ATTEMPTS = 50
#: Seconds between two attempts to take a held lock: the first, and the cap of its doubling.
LOCK_RETRY_FIRST, LOCK_RETRY_MAX = FIRST_PAUSE, LONGEST_PAUSE
# memcached keys: at most 250 bytes, no spaces or control characters; a record id is 64 hex digits.
_PREFIX = re.compile(r"[!-~]{1,180}")


def client_from_url(url: str) -> Any:
    """A thread-safe ``PooledClient`` for ``memcached://host:port``; raise ConfigurationError for another URL.

    Build one per worker process (its connections are opened lazily, on first use:
    do not use it before the server forks its workers). Timeouts are short, so a
    dead server fails a request within seconds.
    """
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        port = 0
    if (parts.scheme.lower() != "memcached" or not parts.hostname or not port or parts.username
            or parts.path not in ("", "/") or parts.query or parts.fragment):
        shown = "a URL with credentials" if parts.password else mask_value(url)
        raise ConfigurationError([SettingProblem("SESSION_CACHE_URL", "memcached://host:port", shown)])
    return PooledClient((parts.hostname, port), connect_timeout=CONNECT_TIMEOUT, timeout=IO_TIMEOUT,
                        no_delay=True, default_noreply=False)


class MemcachedStore:
    """Records as JSON values in memcached under ``prefix``; thread-safe (the client's pool is).

    Reads are one round trip, changes a ``gets`` and a ``cas`` (tried up to
    :data:`CAS_ATTEMPTS` times). Every method raises :class:`StoreError` for a
    memcached failure, never with session data in it. A value this store did not
    write is a :class:`CorruptRecord` to ``load`` and ``load_cached``, no record to the others.
    """

    #: Every value is written with an expiry time (:class:`~.base.ExpiresByItself`).
    expires_by_itself = True

    def __init__(self, client: Any, prefix: str = "session") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> MemcachedStore:
        """A store on ``SESSION_CACHE_URL`` under ``SESSION_REDIS_PREFIX``."""
        if not _PREFIX.fullmatch(settings.redis_prefix):
            raise ConfigurationError([SettingProblem(
                "SESSION_REDIS_PREFIX", "at most 180 printable ASCII characters, no spaces (a memcached key)",
                repr(settings.redis_prefix))])
        return cls(client_from_url(settings.cache_url), settings.redis_prefix)

    def check(self) -> list[CheckResult]:
        """The server answers and takes a key under the prefix."""
        return _checks.check(self.client, self.prefix, _errors)

    def key(self, record_id: str) -> str:
        """The memcached key of ``record_id``'s record (and tombstone)."""
        return f"{self.prefix}:{record_id}"

    def lock_key(self, record_id: str) -> str:
        """The memcached key of ``record_id``'s session lock."""
        return f"{self.prefix}:{record_id}:lock"

    def load(self, record_id: str) -> Record | None:
        entry = self._get(record_id)
        return None if entry is None else entry.record

    def save(self, record_id: str, change: Change) -> bool:
        """Apply ``change``; raise :class:`LockLostError` (writing nothing) if its ``lock_token`` lost the lock."""
        def step(entry: Entry | None, now: float) -> Write | None:
            self._fence(record_id, change.lock_token)
            current = None if entry is None else entry.record
            if current is None and not change.create:
                return None
            data, version = ({}, 1) if current is None else (current.data, current.version + 1)
            record = Record(change.apply_to(data), change.meta, change.expires_at, version)
            return encode(record, tombstone_deadline(entry, now), now)

        return self._change(record_id, "save", step)

    def touch(self, record_id: str, expires_at: float) -> bool:
        def step(entry: Entry | None, now: float) -> Write | None:
            if entry is None or entry.record is None:
                return None
            return encode(replace(entry.record, expires_at=expires_at), tombstone_deadline(entry, now), now)

        return self._change(record_id, "touch", step)

    def delete(self, record_id: str) -> None:
        self.retire(record_id)

    def retire(self, record_id: str) -> bool:
        found = False

        def step(entry: Entry | None, now: float) -> Write | None:
            nonlocal found
            found = entry is not None and entry.record is not None
            if entry is None:
                return None
            gone_until = tombstone_deadline(entry, now)
            if gone_until is None:
                return DROP
            return None if entry.record is None else encode_tombstone(gone_until, now)

        return self._change(record_id, "delete", step) and found

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        """Take the lock (``add``, or ``cas`` over a lapsed lease), retrying with jittered backoff.

        The lease ends at the deadline in the lock's value (memcached drops the key 1-2 s later).
        """
        try:
            entry = self._get(record_id, "lock the session")
        except CorruptRecord:
            return None
        if entry is None or entry.record is None:
            return None
        token = secrets.token_hex(16)
        waiting = LockWait("memcached", wait)
        while not self._take_lock(record_id, token, lease):
            waiting.pause()
        return token

    def release(self, record_id: str, token: str) -> None:
        key = self.lock_key(record_id)
        with _errors("release the lock"):
            held, cas = self.client.gets(key)
            if held is not None and lock_holder(held)[0] == token:
                value, expire = DROP
                self.client.cas(key, value, cas, expire=expire)

    def load_cached(self, record_id: str) -> Record | Literal[Tombstone.GONE] | None:
        entry = self._get(record_id)
        if entry is None:
            return None
        now = time.time()
        if entry.record is None:
            return Tombstone.GONE if tombstone_deadline(entry, now) is not None else None
        return entry.record if entry.record.expires_at > now else None

    def store_record(self, record_id: str, record: Record) -> None:
        def step(entry: Entry | None, now: float) -> Write | None:
            current = None if entry is None else entry.record
            if current is not None and current.expires_at <= now:
                current = None
            gone_until = tombstone_deadline(entry, now)
            if current is None and gone_until is not None:
                return None  # deleted moments ago: a slow reader must not bring it back
            if current is not None and current.version >= record.version:
                return None
            return encode(record, gone_until, now)

        self._change(record_id, "cache the session", step)

    def bury(self, record_id: str, ttl: float) -> None:
        now = time.time()
        value, expire = encode_tombstone(now + ttl, now)
        with _errors("bury the session"):
            self.client.set(self.key(record_id), value, expire=expire)

    def _get(self, record_id: str, operation: str = "load") -> Entry | None:
        with _errors(operation):
            raw = self.client.get(self.key(record_id))
        return None if raw is None else decode(raw)

    def _change(self, record_id: str, operation: str, step: Callable[[Entry | None, float], Write | None]) -> bool:
        """Write what ``step`` makes of the current entry (False: nothing), again if another writer came first."""
        key = self.key(record_id)
        pause = 0.001
        for _ in range(CAS_ATTEMPTS):
            with _errors(operation):
                raw, cas = self.client.gets(key)
            write = step(decode_or_none(raw), time.time())
            if write is None:
                return False
            value, expire = write
            with _errors(operation):
                done = self.client.add(key, value, expire=expire) if raw is None else (
                    self.client.cas(key, value, cas, expire=expire))
            if done:
                return True
            time.sleep(random.uniform(0, pause))
            pause = min(pause * 2, 0.02)
        raise StoreError("memcached", operation, f"other writers changed the session {CAS_ATTEMPTS} times in a row")

    def _take_lock(self, record_id: str, token: str, lease: float) -> bool:
        key = self.lock_key(record_id)
        now = time.time()
        value, expire = lock_value(token, now + lease), exptime(now + lease, now)
        with _errors("lock the session"):
            if self.client.add(key, value, expire=expire):
                return True
            held, cas = self.client.gets(key)
            if held is None or lock_holder(held)[1] > time.time():
                return False  # released meanwhile (the next attempt's add takes it), or held
            return bool(self.client.cas(key, value, cas, expire=expire))

    def _fence(self, record_id: str, token: str | None) -> None:
        """Raise LockLostError unless ``token`` holds the record's lock (when there is a token)."""
        if token is None:
            return
        # memcached cannot check the lock and write the record in one step: a lease that
        # ends between this check and the cas still lets the write through. The fence
        # narrows that window to one round trip; the lock itself still serializes the
        # requests that finish within their lease.
        with _errors("save"):
            held = self.client.get(self.lock_key(record_id))
        holder, until = ("", 0.0) if held is None else lock_holder(held)
        if holder != token or until <= time.time():
            raise LockLostError("memcached")


# pymemcache's and the socket's messages name the failure (and at most a key), never a value.
_errors = functools.partial(StoreErrors, "memcached", (MemcacheError, OSError), None)
