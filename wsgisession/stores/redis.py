"""The ``redis`` engine: one Redis hash per session, expired by Redis itself.

Use it when several processes or machines serve the application and a Redis
server is at hand: reads and saves are one round trip each, concurrent saves
of different keys merge on the server, and Redis drops a session when it
expires (there is nothing to purge). Do not use it with a Redis that evicts keys
under memory pressure (``maxmemory-policy`` other than ``noeviction`` or a
``volatile-*`` policy with room to spare) unless losing sessions is acceptable,
and point it at a Redis that persists its data if sessions must survive a
restart.

Layout: the record ``record_id`` is the hash ``f"{prefix}:{record_id}"``. Its
fields are ``"k:" + key`` for each session key (so no application key can collide
with bookkeeping), ``meta``, ``exp`` (the expiry time, Unix seconds) and ``ver``
(bumped on every save). The hash expires at ``exp`` (``PEXPIREAT``). A save
touches that one key only, so the layout also works on Redis Cluster.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import redis

from ..errors import ConfigurationError, SettingProblem, StoreError
from .base import Change, Record
from .redis_client import client_from_url

if TYPE_CHECKING:
    from ..settings import Settings

logger = logging.getLogger("wsgisession")

#: Prefix of the hash fields that hold session keys.
DATA_FIELD_PREFIX = "k:"

# KEYS[1]: the hash. ARGV: create, replace, meta, exp, expire-at in ms, the number
# of data fields to set, then that many field/value pairs, then the fields to delete.
# unpack() is batched because Lua limits how many values it may spread at once.
_SAVE_SCRIPT = """
local key = KEYS[1]
if ARGV[1] == '0' and redis.call('EXISTS', key) == 0 then
  return 0
end
if ARGV[2] == '1' then
  redis.call('DEL', key)
end
local function batched(command, from, to)
  for first = from, to, 1000 do
    redis.call(command, key, unpack(ARGV, first, math.min(first + 999, to)))
  end
end
local first_deleted = 7 + 2 * tonumber(ARGV[6])
batched('HDEL', first_deleted, #ARGV)
batched('HSET', 7, first_deleted - 1)
redis.call('HSET', key, 'meta', ARGV[3], 'exp', ARGV[4])
redis.call('HINCRBY', key, 'ver', 1)
redis.call('PEXPIREAT', key, ARGV[5])
return 1
"""


class RedisStore:
    """Records as Redis hashes under ``prefix``; thread-safe (the client's pool is).

    Every method raises :class:`StoreError` for a Redis failure (unreachable,
    timed out, refused); the message never holds session data. ``client`` may be
    built with or without ``decode_responses``.
    """

    def __init__(self, client: redis.Redis, prefix: str = "session") -> None:  # type: ignore[type-arg,unused-ignore]
        self.client = client
        self.prefix = prefix
        self._save_script = client.register_script(_SAVE_SCRIPT)

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisStore:
        """A store on ``SESSION_REDIS_URL`` under ``SESSION_REDIS_PREFIX``; no URL is an error."""
        if not settings.redis_url:
            raise ConfigurationError([SettingProblem("SESSION_REDIS_URL", "a Redis URL for the redis engine", "none")])
        return cls(client_from_url(settings.redis_url), settings.redis_prefix)

    def key(self, record_id: str) -> str:
        """The Redis key that holds ``record_id``."""
        return f"{self.prefix}:{record_id}"

    def load(self, record_id: str) -> Record | None:
        with _errors("load"):
            fields: dict[Any, Any] = self.client.hgetall(self.key(record_id))
        if not fields:
            return None
        return _record({_text(name): _text(value) for name, value in fields.items()})

    def save(self, record_id: str, change: Change) -> bool:
        with _errors("save"):
            written = self._save_script(keys=[self.key(record_id)], args=_script_args(change))
        return bool(written)

    def delete(self, record_id: str) -> None:
        with _errors("delete"):
            self.client.unlink(self.key(record_id))


def _script_args(change: Change) -> list[str | int]:
    deleted = [] if change.replace else [DATA_FIELD_PREFIX + key for key in change.deleted if key not in change.set]
    args: list[str | int] = [
        int(change.create), int(change.replace), change.meta, repr(change.expires_at),
        math.ceil(change.expires_at * 1000), len(change.set),
    ]
    for key, value in change.set.items():
        args += (DATA_FIELD_PREFIX + key, value)
    return args + deleted


def _record(fields: dict[str, str]) -> Record | None:
    try:
        meta, expires_at, version = fields["meta"], float(fields["exp"]), int(fields["ver"])
    except (KeyError, ValueError):
        logger.warning("a Redis session hash lacks its bookkeeping fields; starting an empty session")
        return None
    data = {name[len(DATA_FIELD_PREFIX):]: value for name, value in fields.items()
            if name.startswith(DATA_FIELD_PREFIX)}
    return Record(data, meta, expires_at, version)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


@contextlib.contextmanager
def _errors(operation: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        # redis-py's messages name the server and the failure, never the values sent.
        raise StoreError("redis", operation, f"{type(exc).__name__}: {exc}") from exc
