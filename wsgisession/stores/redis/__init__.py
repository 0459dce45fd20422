"""The ``redis`` engine: one Redis hash per session, expired by Redis itself.

Use it when several processes or machines serve the application and a Redis
server is at hand: reads and saves are one round trip each, concurrent saves
of different keys merge on the server, and Redis drops a session when it
expires (there is nothing to purge). Do not use it with a Redis that evicts keys
under memory pressure (``maxmemory-policy`` other than ``noeviction`` or a
``volatile-*`` policy with room to spare) unless losing sessions is acceptable,
and point it at a Redis that persists its data if sessions must survive a
restart.

Layout: one hash per record, a lock and a tombstone beside it, all in the record's
Redis Cluster slot, and one set per user; see :mod:`._keys`.

A tombstone is no record: ``load``, ``touch`` and ``acquire`` find nothing, a
save with ``create`` false returns False, ``delete`` leaves the tombstone, and a
save with ``create`` true makes a record that wins over it. Only ``load_cached``
(``Tombstone.GONE``) and ``store_record`` (refused) see it. ``save`` counts
``ver`` while ``store_record`` copies the database's: use one or the other.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from typing import TYPE_CHECKING, Any, Literal

import redis
from redis.exceptions import ClusterError, RedisClusterException, TryAgainError

from ...errors import ConfigurationError, LockLostError, SettingProblem
from .._backoff import FIRST_PAUSE, LONGEST_PAUSE, LockWait
from .._errors import StoreErrors
from ..base import Change, CorruptRecord, Record, Tombstone
from ..redis_client import ClientOptions, RedisClient, client_from_url
from . import _checks, _diagnosis, _lua
from ._keys import DATA_FIELD_PREFIX, Keys
from ._users import INDEX_MARGIN, UserIndex, user_digest

if TYPE_CHECKING:
    from ...checks import CheckResult
    from ...settings import Settings


_DATA_FIELD_START = len(DATA_FIELD_PREFIX)
_UNDECODABLE = "a Redis session hash holds bytes that are not UTF-8"
#: Seconds between two attempts to take a held lock: the first, and the cap of its doubling.
LOCK_RETRY_FIRST, LOCK_RETRY_MAX = FIRST_PAUSE, LONGEST_PAUSE
#: Seconds a save keeps trying while a Redis Cluster slot moves (or fails over), and the pause
#: between two tries; a lock waits out such a moment within its own ``wait`` instead.
SLOT_MOVE_WAIT = 2.0
SLOT_MOVE_PAUSE = 0.05
#: What a Cluster answers, through redis-py, to a command it did not run: ``TRYAGAIN`` for
#: keys of a migrating slot that are not all on one node (once redis-py's own retries ran
#: out: ``ClusterError: TTL exhausted``), ``CLUSTERDOWN`` while a master fails over.
_SLOT_MOVING = (ClusterError, TryAgainError)


class RedisStore:
    """Records as Redis hashes under ``prefix``; thread-safe (the client's pool is).

    Every method is one round trip (``acquire`` one per attempt; a save or touch that
    updates the user's index two, see :mod:`._users`) and raises
    :class:`StoreError` for a Redis failure (unreachable, timed out, refused, a
    fail-over under way); the message never holds session data. ``client`` is a
    :class:`redis.Redis` (a Sentinel's ``master_for`` one too) or a
    :class:`redis.cluster.RedisCluster`, built with or without ``decode_responses``;
    after a fail-over it finds the new master itself, so the store needs no rebuilding.
    """

    #: Every key is written with a TTL (:class:`~.base.ExpiresByItself`).
    expires_by_itself = True

    def __init__(self, client: RedisClient, prefix: str = "session", *, setting: str = "SESSION_REDIS_URL",
                 server: str | None = None) -> None:
        self.client = client
        self.prefix = prefix
        #: The setting a misconfiguration (a wrong password, an ACL) is blamed on.
        self.setting = setting
        self.diagnosis = _diagnosis.diagnosis(client, setting, server)
        self._errors = functools.partial(StoreErrors, "redis", _CAUGHT, self.diagnosis)
        self._keys = keys = Keys(prefix)
        self._save_script = client.register_script(_lua.SAVE)
        self._touch_script = client.register_script(_lua.TOUCH)
        self._acquire_script = client.register_script(_lua.ACQUIRE)
        self._release_script = client.register_script(_lua.RELEASE)
        self._load_cached_script = client.register_script(_lua.LOAD_CACHED)
        self._store_record_script = client.register_script(_lua.STORE_RECORD)
        self._bury_script = client.register_script(_lua.BURY)
        self._users = UserIndex(client, keys)

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> RedisStore:
        """A store on ``url`` (``SESSION_REDIS_URL`` by default) under ``SESSION_REDIS_PREFIX``.

        The client connects as the ``SESSION_REDIS_*`` options say. No URL is a
        :class:`ConfigurationError`; a Cluster that cannot be reached to read its slot
        map, a :class:`StoreError` (other clients connect on first use).
        """
        setting = "SESSION_CACHE_URL" if url else "SESSION_REDIS_URL"
        url = url or settings.redis_url
        if not url:
            raise ConfigurationError([SettingProblem("SESSION_REDIS_URL", "a Redis URL for the redis engine", "none")])
        with StoreErrors("redis", _CAUGHT, _diagnosis.diagnosis(None, setting, url), "connect"):
            client = client_from_url(url, ClientOptions.from_settings(settings))
        return cls(client, settings.redis_prefix, setting=setting, server=url)

    def check(self) -> list[CheckResult]:
        """Connect and authenticate, then check the version (7.0 or later), scripts, writes and Cluster slots."""
        return _checks.check(self)

    def scripts(self) -> list[Any]:
        """The store's registered Lua scripts (``redis.commands.core.Script``)."""
        return [self._save_script, self._touch_script, self._acquire_script, self._release_script,
                self._load_cached_script, self._store_record_script, self._bury_script]

    def key(self, record_id: str) -> str:
        """The Redis key of the hash that holds ``record_id``, hash-tagged with the record id."""
        return self._keys.record(record_id)

    def lock_key(self, record_id: str) -> str:
        """The Redis key of ``record_id``'s session lock (same cluster slot as :meth:`key`)."""
        return self._keys.lock(record_id)

    def tombstone_key(self, record_id: str) -> str:
        """The Redis key of ``record_id``'s tombstone (same cluster slot as :meth:`key`)."""
        return self._keys.tombstone(record_id)

    def user_index_key(self, user_id: str) -> str:
        """The Redis key of the set of ``user_id``'s record ids (not in the records' cluster slots)."""
        return self._users.key(user_id)

    def load(self, record_id: str) -> Record | None:
        with self._errors("load"):
            try:
                fields: dict[Any, Any] = self.client.hgetall(self.key(record_id))
            except UnicodeDecodeError:  # raised by the client (decode_responses); the connection is reset
                raise CorruptRecord(_UNDECODABLE) from None
        return _record(fields) if fields else None

    def save(self, record_id: str, change: Change) -> bool:
        """Apply ``change``; raise :class:`LockLostError` (writing nothing) if its ``lock_token`` lost the lock.

        On a Cluster whose slot is moving, retried for up to :data:`SLOT_MOVE_WAIT` seconds.
        """
        key = self.key(record_id)
        # Only the keys the script reads: a key that does not exist (an unlocked session's
        # lock) makes a Cluster answer TRYAGAIN for as long as the slot moves.
        keys = [key] if change.lock_token is None else [key, self.lock_key(record_id)]
        args = _script_args(change)
        with self._errors("save"):
            try:
                written = self._save_script(keys=keys, args=args)
            except _SLOT_MOVING:
                written = _when_slot_settles(self._save_script, keys, args, time.monotonic() + SLOT_MOVE_WAIT)
            # After the save, not with it (other cluster slots): if this fails, the app gets
            # the StoreError, but the record is saved and its user's index may lack it until
            # a later renewal extends the index again (see _users) or the session ends.
            self._users.add_if_due(record_id, written)
        if written == -1:
            raise LockLostError("redis")
        return bool(written)

    def delete(self, record_id: str) -> None:
        self.retire(record_id)

    def retire(self, record_id: str) -> bool:
        with self._errors("delete"):
            return bool(self.client.unlink(self.key(record_id)))

    def touch(self, record_id: str, expires_at: float) -> bool:
        with self._errors("touch"):
            alive = self._touch_script(keys=[self.key(record_id)], args=[
                repr(expires_at), _unix_ms(expires_at), _unix_ms(expires_at + INDEX_MARGIN)])
            self._users.add_if_due(record_id, alive)
        return bool(alive)

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        """Take the lock (``SET NX PX``), retrying with jittered backoff; see :class:`~.base.Locks`.

        A Cluster slot that moves meanwhile is waited out like a held lock, within ``wait``.
        """
        token = secrets.token_hex(16)
        waiting = LockWait("redis", wait)
        keys = [self.key(record_id), self.lock_key(record_id)]
        args: list[str | int] = [token, _duration_ms(lease)]
        while True:
            with self._errors("lock"):
                try:
                    outcome = self._acquire_script(keys=keys, args=args)
                except _SLOT_MOVING:  # the lock is not there yet: a moving slot answers TRYAGAIN
                    if waiting.over():
                        raise
                    outcome = 0  # wait as for a lock held by another request
            if outcome == 1:
                return token
            if outcome == -1:
                return None
            waiting.pause()

    def release(self, record_id: str, token: str) -> None:
        with self._errors("release the lock"):
            self._release_script(keys=[self.lock_key(record_id)], args=[token])

    def load_cached(self, record_id: str) -> Record | Literal[Tombstone.GONE] | None:
        with self._errors("load"):
            try:
                found = self._load_cached_script(keys=[self.key(record_id), self.tombstone_key(record_id)])
            except UnicodeDecodeError:
                raise CorruptRecord(_UNDECODABLE) from None
        if isinstance(found, int):
            return Tombstone.GONE
        if not found:
            return None
        return _record(dict(zip(found[::2], found[1::2], strict=True)))

    def store_record(self, record_id: str, record: Record) -> None:
        args: list[str | int] = [record.version, record.meta, repr(record.expires_at), _unix_ms(record.expires_at)]
        for key, value in record.data.items():
            args += (DATA_FIELD_PREFIX + key, value)
        with self._errors("cache the session"):
            self._store_record_script(keys=[self.key(record_id), self.tombstone_key(record_id)], args=args)

    def bury(self, record_id: str, ttl: float) -> None:
        """On a Cluster whose slot is moving, retried as a save is: a logout must not fail meanwhile."""
        keys = [self.key(record_id), self.tombstone_key(record_id)]
        args: list[str | int] = [_duration_ms(ttl)]
        with self._errors("bury the session"):
            try:
                self._bury_script(keys=keys, args=args)
            except _SLOT_MOVING:  # the tombstone does not exist yet: a moving slot answers TRYAGAIN
                _when_slot_settles(self._bury_script, keys, args, time.monotonic() + SLOT_MOVE_WAIT)

    def user_sessions(self, user_id: str) -> list[str]:
        """The record ids of the user's live sessions, sorted; see :class:`~._users.UserIndex`."""
        with self._errors("list the user's sessions"):
            return self._users.sessions(user_id)

    def delete_user_sessions(self, user_id: str, except_record_id: str | None = None) -> int:
        """Delete the user's sessions but ``except_record_id`` (their locks run out by themselves)."""
        with self._errors("delete the user's sessions"):
            return self._users.delete_sessions(user_id, except_record_id)


def _when_slot_settles(script: Any, keys: list[str], args: list[str | int], deadline: float) -> Any:
    """Run ``script`` again, pausing, until a Cluster runs it; past ``deadline``, raise what it answers."""
    while True:
        time.sleep(SLOT_MOVE_PAUSE)
        try:
            return script(keys=keys, args=args)
        except _SLOT_MOVING:
            if time.monotonic() >= deadline:
                raise


def _script_args(change: Change) -> list[str | int]:
    args: list[str | int] = [
        int(change.create), int(change.replace), change.meta, repr(change.expires_at),
        _unix_ms(change.expires_at), change.lock_token or "", len(change.set),
        user_digest(change.user_id) if change.user_id is not None else "",
        _unix_ms(change.expires_at + INDEX_MARGIN),
    ]
    for key, value in change.set.items():
        args += (DATA_FIELD_PREFIX + key, value)
    if change.deleted and not change.replace:
        args += [DATA_FIELD_PREFIX + key for key in change.deleted if key not in change.set]
    return args


def _unix_ms(unix_time: float) -> int:
    return math.ceil(unix_time * 1000)


def _duration_ms(seconds: float) -> int:
    # PX and PEXPIRE refuse 0 and negative durations.
    return max(1, math.ceil(seconds * 1000))


def _record(fields: dict[Any, Any]) -> Record:
    """The record in a hash's ``fields``, as ``str`` or (from a client built without ``decode_responses``) ``bytes``."""
    if isinstance(next(iter(fields)), bytes):
        try:
            fields = {name.decode(): value.decode() for name, value in fields.items()}
        except UnicodeDecodeError:
            raise CorruptRecord(_UNDECODABLE) from None
    try:
        meta, expires_at, version = fields["meta"], float(fields["exp"]), int(fields["ver"])
    except (KeyError, ValueError):
        raise CorruptRecord("a Redis session hash lacks its bookkeeping fields") from None
    data = {}
    for name, value in fields.items():  # a loop, not a comprehension: faster (docs/performance.md)
        if name.startswith(DATA_FIELD_PREFIX):
            data[name[_DATA_FIELD_START:]] = value
    return Record(data, meta, expires_at, version)


# redis-py's messages name the server and the failure, never the values sent (nor a
# password). The client stays usable: a Sentinel or Cluster client finds the new master
# on a later command.
_CAUGHT = (redis.RedisError, RedisClusterException)
